using ConnLeakGuard.Admin;
using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Maps the guard's inbound options onto Kestrel's limits and binds the proxy and admin listeners.
/// Kestrel does not bind a <c>Kestrel:Limits</c> section by default, so every limit is set here explicitly.
/// </summary>
internal sealed class KestrelLimitsSetup : IConfigureOptions<KestrelServerOptions>
{
    // Kestrel's heartbeat interval, fixed in Kestrel and not configurable.
    internal static readonly TimeSpan KestrelHeartbeat = TimeSpan.FromSeconds(1);

    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly InboundConnectionMiddleware _connectionMiddleware;
    private readonly AdminConnectionMarker _adminMarker;
    private readonly ListenerEndpoints _endpoints;

    public KestrelLimitsSetup(
        IOptionsMonitor<GuardOptions> options,
        InboundConnectionMiddleware connectionMiddleware,
        AdminConnectionMarker adminMarker,
        ListenerEndpoints endpoints)
    {
        _options = options;
        _connectionMiddleware = connectionMiddleware;
        _adminMarker = adminMarker;
        _endpoints = endpoints;
    }

    /// <inheritdoc />
    public void Configure(KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        var guard = _options.CurrentValue;
        Apply(options.Limits, guard.Inbound);
        options.AddServerHeader = false;

        foreach (var endpoint in ListenUrl.ParseAll(guard.Inbound.Urls))
        {
            options.Listen(endpoint, listen =>
            {
                listen.Protocols = ToKestrel(guard.Inbound.Protocols);
                listen.Use(_connectionMiddleware.Wrap);
                _endpoints.AddProxy(listen);
            });
        }

        foreach (var endpoint in ListenUrl.ParseAll(guard.Admin.Urls))
        {
            options.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(_adminMarker.Wrap);
                _endpoints.AddAdmin(listen);
            });
        }
    }

    /// <summary>
    /// Copies the inbound limits onto <paramref name="limits"/>, with the request headers and keep-alive
    /// timeouts multiplied by <paramref name="timeoutScale"/> (below 1 from overload level Elevated on).
    /// </summary>
    internal static void Apply(KestrelServerLimits limits, InboundOptions inbound, double timeoutScale = 1.0)
    {
        limits.RequestHeadersTimeout = CompensateHeartbeat(inbound.RequestHeadersTimeout * timeoutScale);
        limits.KeepAliveTimeout = CompensateHeartbeat(inbound.KeepAliveTimeout * timeoutScale);
        limits.MaxRequestLineSize = checked((int)inbound.MaxRequestLineSize);
        limits.MaxRequestHeadersTotalSize = checked((int)inbound.MaxRequestHeadersTotalSize);
        limits.MaxRequestHeaderCount = inbound.MaxRequestHeaderCount;
        limits.MaxRequestBodySize = inbound.MaxRequestBodySize;
        limits.MaxConcurrentConnections = inbound.MaxConcurrentConnections;

        // Upgraded connections (WebSocket) are bounded by the same cap, and by the maximum connection age.
        limits.MaxConcurrentUpgradedConnections = inbound.MaxConcurrentConnections;

        limits.MinRequestBodyDataRate = inbound.MinRequestBodyDataRate is { } bodyRate
            ? new MinDataRate(bodyRate, inbound.MinRequestBodyDataRateGracePeriod)
            : null;
        limits.MinResponseDataRate = inbound.MinResponseDataRate is { } responseRate
            ? new MinDataRate(responseRate, inbound.MinResponseDataRateGracePeriod)
            : null;

        limits.Http2.MaxStreamsPerConnection = inbound.Http2.MaxStreamsPerConnection;
        limits.Http2.KeepAlivePingDelay = inbound.Http2.KeepAlivePingDelay == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : inbound.Http2.KeepAlivePingDelay;
        limits.Http2.KeepAlivePingTimeout = inbound.Http2.KeepAlivePingTimeout;
    }

    /// <summary>
    /// Kestrel checks these timeouts on its one-second heartbeat and adds one heartbeat of slack, so a
    /// connection would close between one and two seconds after the configured value. Subtracting the slack
    /// and half a heartbeat more (at most half the timeout) makes it close between 0.5 s before and 0.5 s
    /// after the configured value, which leaves room for scheduling delays under load.
    /// </summary>
    internal static TimeSpan CompensateHeartbeat(TimeSpan timeout)
    {
        var slack = TimeSpan.FromTicks(Math.Min((KestrelHeartbeat * 1.5).Ticks, timeout.Ticks / 2));
        return timeout - slack;
    }

    private static HttpProtocols ToKestrel(ListenerProtocols protocols) => protocols switch
    {
        ListenerProtocols.Http2 => HttpProtocols.Http2,
        ListenerProtocols.Http1AndHttp2 => HttpProtocols.Http1AndHttp2,
        _ => HttpProtocols.Http1,
    };
}
