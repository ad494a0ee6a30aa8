namespace ConnLeakGuard.LeakLab.Results;

/// <summary>
/// One reading per second of a run. A null value was not available: the process had exited, or
/// (for the guard) the run had no guard. Sizes are in bytes, latencies in milliseconds.
/// </summary>
/// <param name="Seconds">Time since the run's clients started.</param>
/// <param name="UpstreamConnections">Connections the upstream holds, as it reports itself.</param>
/// <param name="UpstreamSockets">Sockets on the upstream's port in /proc/net/tcp (ESTABLISHED or CLOSE_WAIT).</param>
/// <param name="UpstreamResidentBytes">The upstream's VmRSS.</param>
/// <param name="UpstreamManagedBytes">The upstream's GC heap in use, as it reports itself.</param>
/// <param name="UpstreamThreads">The upstream's thread count.</param>
/// <param name="GuardConnections">The guard's <c>kestrel_active_connections</c> on its inbound port.</param>
/// <param name="GuardSockets">Sockets on the guard's inbound port in /proc/net/tcp.</param>
/// <param name="GuardResidentBytes">The guard's VmRSS.</param>
/// <param name="GuardThreads">The guard's thread count.</param>
/// <param name="HealthySucceeded">Healthy requests that succeeded since the previous sample.</param>
/// <param name="HealthyFailed">Healthy requests that failed since the previous sample.</param>
/// <param name="HealthyP50Milliseconds">Median latency of those requests.</param>
/// <param name="HealthyP99Milliseconds">99th percentile latency of those requests.</param>
/// <param name="HostileOpen">Connections the misbehaving clients hold open, counted on their side.</param>
internal sealed record Sample(
    double Seconds,
    int? UpstreamConnections,
    int? UpstreamSockets,
    long? UpstreamResidentBytes,
    long? UpstreamManagedBytes,
    int? UpstreamThreads,
    int? GuardConnections,
    int? GuardSockets,
    long? GuardResidentBytes,
    int? GuardThreads,
    long HealthySucceeded,
    long HealthyFailed,
    double? HealthyP50Milliseconds,
    double? HealthyP99Milliseconds,
    int HostileOpen);
