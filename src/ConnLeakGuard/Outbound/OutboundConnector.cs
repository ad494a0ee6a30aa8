using System.Net.Sockets;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// The connect callback of every cluster's handler: opens the TCP connection as SocketsHttpHandler would
/// (no Nagle delay, dual-mode) and wraps it in a tracked stream.
/// </summary>
internal sealed class OutboundConnector
{
    private readonly OutboundPoolRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ConnectionMetrics _connectionMetrics;

    public OutboundConnector(OutboundPoolRegistry registry, TimeProvider time, ConnectionMetrics connectionMetrics)
    {
        _registry = registry;
        _time = time;
        _connectionMetrics = connectionMetrics;
    }

    /// <summary>Returns the connect callback for the cluster whose pools are <paramref name="pools"/>.</summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> CreateCallback(ClusterPools pools) =>
        (context, cancellationToken) => ConnectAsync(pools, context, cancellationToken);

    private async ValueTask<Stream> ConnectAsync(ClusterPools pools, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var destination = OutboundAdmissionHandler.DestinationKey(context.InitialRequestMessage.RequestUri!);
        var permits = pools.Get(destination).ConnectionPermits;

        // The token carries SocketsHttpHandler's ConnectTimeout as well as the request's cancellation, so
        // waiting for a closing connection to finish counts against the connect timeout.
        await permits.WaitAsync(cancellationToken);

        // The connect itself is bounded by the connect timeout only, because a connect cancelled by the
        // request can already have reached the upstream. Such a connection completes here and is then
        // closed through the stream, which releases the permit only after the upstream has closed its side.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connectTimeout = new CancellationTokenSource(pools.Options.ConnectTimeout, _time);
            await socket.ConnectAsync(context.DnsEndPoint, connectTimeout.Token);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            permits.Release();
            if (ex is OperationCanceledException)
            {
                throw new TimeoutException($"Connecting to {destination} timed out after {pools.Options.ConnectTimeout}.", ex);
            }

            throw;
        }

        var stream = new OutboundConnectionStream(socket, pools.Cluster, destination, permits, _registry, _time, _connectionMetrics);
        if (cancellationToken.IsCancellationRequested)
        {
            await stream.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return stream;
    }
}
