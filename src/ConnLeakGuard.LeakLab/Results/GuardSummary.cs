namespace ConnLeakGuard.LeakLab.Results;

/// <summary>The guard's figures over one guarded run. Sizes are in bytes.</summary>
/// <param name="BaselineResidentBytes">VmRSS in the last sample before the misbehaving clients started.</param>
/// <param name="PeakResidentBytes">Highest VmRSS seen, including the kernel's VmHWM.</param>
/// <param name="PeakThreads">Highest thread count sampled.</param>
/// <param name="PeakConnections">Highest <c>kestrel_active_connections</c> on the inbound port, or null when the metric was never read.</param>
/// <param name="PeakSockets">Most sockets on the inbound port in /proc/net/tcp at a sample.</param>
/// <param name="ExitedEarly">True when the guard ended before the run did.</param>
/// <param name="ExitCode">The exit code when it ended early.</param>
/// <param name="LogPath">The file with the guard's output.</param>
internal sealed record GuardSummary(
    long? BaselineResidentBytes,
    long? PeakResidentBytes,
    int? PeakThreads,
    int? PeakConnections,
    int PeakSockets,
    bool ExitedEarly,
    int? ExitCode,
    string LogPath);
