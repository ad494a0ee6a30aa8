namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>
/// The leaky upstream's report about itself, written as one JSON line on its standard output.
/// </summary>
/// <param name="OpenConnections">Connections accepted and not yet closed. Each one keeps a handler task and a read buffer.</param>
/// <param name="PeakOpenConnections">The most connections open at once since start, counted on every accept.</param>
/// <param name="AcceptedConnections">Connections accepted since start.</param>
/// <param name="RequestsServed">Complete requests answered since start.</param>
/// <param name="ManagedBytes">Bytes allocated on the GC heap and not yet collected (<see cref="GC.GetTotalMemory(bool)"/>).</param>
/// <param name="ResidentBytes">The process's resident set size (VmRSS) when the line was written.</param>
internal sealed record UpstreamStatus(
    int OpenConnections,
    int PeakOpenConnections,
    long AcceptedConnections,
    long RequestsServed,
    long ManagedBytes,
    long ResidentBytes);
