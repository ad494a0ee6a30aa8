using System.Threading.RateLimiting;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// One upstream destination of one cluster: the slots that bound concurrent requests to it (one slot per
/// connection the pool may open), the bounded wait queue in front of them, and the permits that bound the
/// open connections themselves.
/// </summary>
/// <remarks>
/// SocketsHttpHandler queues a request that finds every connection busy without a length limit or a
/// deadline. Taking a slot here first means that queue never forms: every waiting request waits here, where
/// the queue is bounded by <c>MaxPendingRequests</c> and each wait by <c>QueueTimeout</c>.
/// A request slot frees when its response ends, but a connection cut by a cancelled request is still
/// closing then; the connection permits make a new connection wait until the old one has closed, so the
/// upstream never sees more than <see cref="Slots"/> connections at once.
/// </remarks>
internal sealed class DestinationPool : IDisposable
{
    public DestinationPool(string cluster, string destination, int slots, int maxPending)
    {
        Cluster = cluster;
        Destination = destination;
        Slots = slots;
        Limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = slots,
            QueueLimit = maxPending,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        ConnectionPermits = new SemaphoreSlim(slots, slots);
    }

    /// <summary>Cluster id.</summary>
    public string Cluster { get; }

    /// <summary>Destination authority (host:port).</summary>
    public string Destination { get; }

    /// <summary>Maximum concurrent requests (and connections) to the destination.</summary>
    public int Slots { get; }

    /// <summary>The slot limiter with its wait queue.</summary>
    public ConcurrencyLimiter Limiter { get; }

    /// <summary>Permits for open connections, one per allowed connection.</summary>
    public SemaphoreSlim ConnectionPermits { get; }

    /// <summary>Requests waiting for a slot.</summary>
    public long Pending => Limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Requests holding a slot.</summary>
    public long Active => Slots - (Limiter.GetStatistics()?.CurrentAvailablePermits ?? Slots);

    /// <inheritdoc />
    public void Dispose()
    {
        Limiter.Dispose();
        ConnectionPermits.Dispose();
    }
}
