namespace ConnLeakGuard.Tests.Admin;

/// <summary>The body of <c>/debug/connections</c> or <c>/debug/leaks</c> as the tests read it from JSON.</summary>
internal sealed record TableReport(
    Dictionary<string, SideTotals> Totals,
    int Listed,
    bool Truncated,
    List<TableRow> Connections,
    double? StalledThresholdSeconds,
    double? AgeThresholdSeconds)
{
    /// <summary>Rows of <paramref name="side"/>.</summary>
    public IReadOnlyList<TableRow> Side(string side) => [.. Connections.Where(row => row.Side == side)];

    /// <summary>The inbound row whose client port is <paramref name="clientPort"/>, or null.</summary>
    public TableRow? InboundFrom(int clientPort) =>
        Connections.SingleOrDefault(row => row.Side == "inbound" && row.RemotePort == clientPort);
}
