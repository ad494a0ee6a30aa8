namespace ConnLeakGuard.Tests.Admin;

/// <summary>The totals of one side at the top of the connection table.</summary>
internal sealed record SideTotals(int Total, Dictionary<string, int> States);
