namespace ConnLeakGuard.LeakLab.Results;

/// <summary>What one kind of misbehaving client did in a run.</summary>
/// <param name="Kind">The client kind's name, such as <c>slowloris</c>.</param>
/// <param name="OpenPerSecond">New connections it tried per second while below <paramref name="MaxOpen"/>.</param>
/// <param name="MaxOpen">Most connections it keeps open at once.</param>
/// <param name="Opened">Connections established.</param>
/// <param name="ConnectFailures">Connection attempts refused or timed out.</param>
/// <param name="ClosedByServer">Connections that the server closed or reset.</param>
/// <param name="PeakOpen">Most connections open (or connecting) at once.</param>
internal sealed record ClientSummary(
    string Kind,
    double OpenPerSecond,
    int MaxOpen,
    long Opened,
    long ConnectFailures,
    long ClosedByServer,
    int PeakOpen);
