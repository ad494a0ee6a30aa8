namespace ConnLeakGuard.LeakLab.Results;

/// <summary>The upstream's figures over one run. Sizes are in bytes, times in seconds since the clients started.</summary>
/// <param name="BaselineResidentBytes">VmRSS in the last sample before the misbehaving clients started.</param>
/// <param name="PeakResidentBytes">Highest VmRSS seen: samples, the kernel's VmHWM, and the budget-kill report.</param>
/// <param name="PeakManagedBytes">Highest GC heap in use that the upstream reported.</param>
/// <param name="PeakThreads">Highest thread count sampled.</param>
/// <param name="PeakConnections">Most connections held at once, from its status reports (every 200 ms).</param>
/// <param name="PeakSockets">Most sockets on its port in /proc/net/tcp at a sample.</param>
/// <param name="KilledByBudget">True when the memory budget killed the process (exit code 137 after its OOM report).</param>
/// <param name="ExitCode">The exit code when the process ended before the run did, otherwise null.</param>
/// <param name="ExitedAtSeconds">When the process ended, if it ended before the run did.</param>
/// <param name="ConnectionsAtKill">Connections held when the budget was crossed.</param>
/// <param name="ResidentBytesAtKill">VmRSS when the budget was crossed.</param>
internal sealed record UpstreamSummary(
    long? BaselineResidentBytes,
    long? PeakResidentBytes,
    long? PeakManagedBytes,
    int? PeakThreads,
    int PeakConnections,
    int PeakSockets,
    bool KilledByBudget,
    int? ExitCode,
    double? ExitedAtSeconds,
    int? ConnectionsAtKill,
    long? ResidentBytesAtKill);
