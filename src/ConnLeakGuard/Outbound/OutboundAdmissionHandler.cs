using System.Net.Sockets;
using System.Threading.RateLimiting;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// The outermost handler of a cluster's HTTP client: takes a connection slot for the destination from its
/// bounded wait queue, bounds the time to response headers, and classifies failures.
/// </summary>
internal sealed class OutboundAdmissionHandler : DelegatingHandler
{
    private readonly ClusterPools _pools;
    private readonly string _cluster;
    private readonly OutboundOptions _options;
    private readonly OutboundMetrics _metrics;
    private readonly TimeProvider _time;

    public OutboundAdmissionHandler(HttpMessageHandler inner, ClusterPools pools, OutboundMetrics metrics, TimeProvider time)
        : base(inner)
    {
        _pools = pools;
        _cluster = pools.Cluster;
        _options = pools.Options;
        _metrics = metrics;
        _time = time;
    }

    /// <summary>The destination pools of this handler.</summary>
    public IEnumerable<DestinationPool> Pools => _pools.Pools;

    /// <summary>
    /// Returns the "host:port" label of a destination. It matches the connection tracker's, which sees the
    /// same request URI.
    /// </summary>
    // NOTE: this allocates a string per request; a cache keyed by the destination's Uri would remove it.
    public static string DestinationKey(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);

        return uri.IsDefaultPort ? $"{uri.Host}:{uri.Port}" : uri.Authority;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        var destination = DestinationKey(request.RequestUri!);
        var pool = _pools.Get(destination);
        var inbound = InboundRequestContext.Current;

        // One deadline covers the wait for a slot, the connect and the upstream's think time. The inbound
        // deadlines cancel it too, so a request whose client deadline expires stops waiting upstream.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ResponseHeadersTimeout);
        if (inbound is not null)
        {
            inbound.UpstreamCancellation = deadline;
        }

        try
        {
            var lease = await AcquireSlotAsync(pool, deadline, cancellationToken);
            HttpResponseMessage response;
            try
            {
                response = await SendWithSlotAsync(request, destination, deadline, cancellationToken);
            }
            catch
            {
                lease.Dispose();
                throw;
            }

            // The slot stays taken until the forwarder has copied the body and disposes the response.
            response.Content = new LeaseReleasingContent(response.Content, lease);
            return response;
        }
        finally
        {
            if (inbound is not null)
            {
                inbound.UpstreamCancellation = null;
            }
        }
    }

    private async Task<RateLimitLease> AcquireSlotAsync(DestinationPool pool, CancellationTokenSource deadline, CancellationToken clientAborted)
    {
        var started = _time.GetTimestamp();
        using var queueDeadline = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        queueDeadline.CancelAfter(_options.QueueTimeout);

        RateLimitLease lease;
        try
        {
            lease = await pool.Limiter.AcquireAsync(1, queueDeadline.Token);
        }
        catch (OperationCanceledException) when (!clientAborted.IsCancellationRequested)
        {
            _metrics.QueueWaited(_cluster, pool.Destination, _time.GetElapsedTime(started));
            var kind = deadline.IsCancellationRequested ? UpstreamFailureKinds.ResponseTimeout : UpstreamFailureKinds.QueueTimeout;
            throw Reject(pool.Destination, kind, $"No connection to {pool.Destination} became free within the queue timeout.");
        }

        _metrics.QueueWaited(_cluster, pool.Destination, _time.GetElapsedTime(started));
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw Reject(pool.Destination, UpstreamFailureKinds.QueueFull, $"The wait queue for {pool.Destination} is full.");
        }

        return lease;
    }

    private async Task<HttpResponseMessage> SendWithSlotAsync(HttpRequestMessage request, string destination, CancellationTokenSource deadline, CancellationToken clientAborted)
    {
        try
        {
            return await base.SendAsync(request, deadline.Token);
        }
        catch (OperationCanceledException ex) when (!clientAborted.IsCancellationRequested && FindInner<TimeoutException>(ex) is not null)
        {
            throw Fail(destination, UpstreamFailureKinds.ConnectTimeout, ex);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !clientAborted.IsCancellationRequested)
        {
            throw Fail(destination, UpstreamFailureKinds.ResponseTimeout, ex);
        }
        catch (HttpRequestException ex)
        {
            throw Fail(destination, Classify(ex), ex);
        }
    }

    private UpstreamRejectedException Reject(string destination, string kind, string message)
    {
        _metrics.QueueRejected(_cluster, destination, kind);
        return new UpstreamRejectedException(kind, message);
    }

    private UpstreamRejectedException Fail(string destination, string kind, Exception inner)
    {
        _metrics.Failed(_cluster, destination, kind);
        return new UpstreamRejectedException(kind, inner.Message, inner);
    }

    private static string Classify(HttpRequestException exception)
    {
        if (FindInner<TimeoutException>(exception) is not null)
        {
            return UpstreamFailureKinds.ConnectTimeout;
        }

        return FindInner<SocketException>(exception)?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => UpstreamFailureKinds.Refused,
            SocketError.ConnectionReset or SocketError.ConnectionAborted => UpstreamFailureKinds.Reset,
            _ => exception.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.ConnectionError
                ? UpstreamFailureKinds.Reset
                : UpstreamFailureKinds.Other,
        };
    }

    private static T? FindInner<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }
}
