using System.Net;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Overload;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Kestrel connection middleware on the proxy listener: enforces
/// <c>ConnLeakGuard:Inbound:MaxConnectionsPerClientIp</c>, sets the connection's maximum age with jitter,
/// and keeps the connection in <see cref="InboundConnectionRegistry"/> while it is open.
/// </summary>
internal sealed class InboundConnectionMiddleware
{
    /// <summary>Key of the <see cref="InboundConnection"/> in the connection's items.</summary>
    public static readonly object ItemKey = new();

    private readonly InboundConnectionRegistry _registry;
    private readonly ClientIpConnectionCounter _perIp;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly GuardMetrics _metrics;
    private readonly LimitEventLog _limitLog;
    private readonly TimeProvider _time;
    private readonly InboundLoadShedder _overload;

    public InboundConnectionMiddleware(
        InboundConnectionRegistry registry,
        ClientIpConnectionCounter perIp,
        IOptionsMonitor<GuardOptions> options,
        GuardMetrics metrics,
        LimitEventLog limitLog,
        TimeProvider time,
        InboundLoadShedder overload)
    {
        _registry = registry;
        _perIp = perIp;
        _options = options;
        _metrics = metrics;
        _limitLog = limitLog;
        _time = time;
        _overload = overload;
    }

    /// <summary>Wraps the next connection handler.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);

        return connection => HandleAsync(connection, next);
    }

    private async Task HandleAsync(ConnectionContext context, ConnectionDelegate next)
    {
        // At overload level Critical a new connection is closed before anything is read from it, so that
        // memory and descriptors go to the connections already open.
        if (_overload.RejectConnection(context))
        {
            return;
        }

        var limits = _options.CurrentValue.Inbound;
        var clientAddress = (context.RemoteEndPoint as IPEndPoint)?.Address;

        if (clientAddress is not null && limits.MaxConnectionsPerClientIp is { } perIpLimit
            && !_perIp.TryAcquire(clientAddress, perIpLimit))
        {
            // Closing without reading means the client sees a clean FIN at once, never a hanging socket.
            _metrics.ConnectionClosed(CloseReasons.MaxConnectionsPerClientIp);
            _limitLog.ConnectionRejected(CloseReasons.MaxConnectionsPerClientIp, context.ConnectionId, context.RemoteEndPoint);
            return;
        }

        var now = _time.GetTimestamp();
        var connection = new InboundConnection(context, now, ComputeMaxAgeDeadline(now, limits), _time);
        context.Items[ItemKey] = connection;
        _registry.Add(connection);

        try
        {
            await next(context);
        }
        finally
        {
            _registry.Remove(connection);
            if (clientAddress is not null && limits.MaxConnectionsPerClientIp is not null)
            {
                _perIp.Release(clientAddress);
            }
        }
    }

    private long ComputeMaxAgeDeadline(long now, InboundOptions limits)
    {
        if (limits.MaxConnectionAge == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        // Subtracting a random share spreads closes over time, so a burst of connections opened together
        // (a deploy, a client restart) does not reconnect together.
        var jitter = limits.MaxConnectionAgeJitter * Random.Shared.NextDouble();
        var age = limits.MaxConnectionAge * (1 - jitter);
        return now + (long)(age.TotalSeconds * _time.TimestampFrequency);
    }
}
