namespace ConnLeakGuard.Admin;

/// <summary>The number of connections of one side that match the filters, in total and per state.</summary>
internal sealed class ConnectionTotals
{
    /// <summary>All matching connections of the side.</summary>
    public int Total { get; set; }

    /// <summary>Matching connections per state; every state of the side is present, zeros included.</summary>
    public required Dictionary<string, int> States { get; init; }
}
