namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>Thread-safe counters that the upstream's connections update and its status reporter reads.</summary>
internal sealed class UpstreamCounters
{
    private int _openConnections;
    private int _peakOpenConnections;
    private long _acceptedConnections;
    private long _requestsServed;

    public int OpenConnections => Volatile.Read(ref _openConnections);

    /// <summary>The most connections open at once since start, updated on every accept.</summary>
    public int PeakOpenConnections => Volatile.Read(ref _peakOpenConnections);

    public long AcceptedConnections => Interlocked.Read(ref _acceptedConnections);

    public long RequestsServed => Interlocked.Read(ref _requestsServed);

    public void ConnectionOpened()
    {
        int open = Interlocked.Increment(ref _openConnections);
        Interlocked.Increment(ref _acceptedConnections);

        int peak;
        while (open > (peak = Volatile.Read(ref _peakOpenConnections)))
        {
            if (Interlocked.CompareExchange(ref _peakOpenConnections, open, peak) == peak)
            {
                break;
            }
        }
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    public void RequestServed() => Interlocked.Increment(ref _requestsServed);
}
