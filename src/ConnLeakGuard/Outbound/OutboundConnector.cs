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

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            permits.Release();
            throw;
        }

        return new OutboundConnectionStream(socket, pools.Cluster, destination, permits, _registry, _time, _connectionMetrics);
    }
}
