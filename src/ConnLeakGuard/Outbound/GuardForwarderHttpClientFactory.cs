using System.Runtime.CompilerServices;
using ConnLeakGuard.Configuration;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// Builds each cluster's HTTP client with the guard's bounded pool: the per-host connection cap, pooled idle
/// timeout and lifetime, connect timeout, header size cap and HTTP/2 keep-alive pings, a connect callback
/// that tracks every connection, and <see cref="OutboundAdmissionHandler"/> in front with the wait queue.
/// </summary>
/// <remarks>
/// <see cref="SocketsHttpHandler.MaxConnectionsPerServer"/> does not limit HTTP/2 connections, and YARP
/// enables multiple HTTP/2 connections by default. The guard switches that off, so an HTTP/2 destination
/// gets one connection that multiplexes up to the upstream's stream limit, and the admission handler's
/// slots (one per allowed connection) bound the requests in flight for both protocols.
/// </remarks>
internal sealed partial class GuardForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    private static readonly ConditionalWeakTable<SocketsHttpHandler, ClusterPools> s_pools = [];

    private readonly OutboundDefaults _defaults;
    private readonly OutboundPoolRegistry _registry;
    private readonly OutboundMetrics _metrics;
    private readonly OutboundConnector _connector;
    private readonly TimeProvider _time;
    private readonly ILogger<GuardForwarderHttpClientFactory> _logger;

    public GuardForwarderHttpClientFactory(
        ILogger<ForwarderHttpClientFactory> baseLogger,
        ILogger<GuardForwarderHttpClientFactory> logger,
        OutboundDefaults defaults,
        OutboundPoolRegistry registry,
        OutboundMetrics metrics,
        OutboundConnector connector,
        TimeProvider time)
        : base(baseLogger)
    {
        _logger = logger;
        _defaults = defaults;
        _registry = registry;
        _metrics = metrics;
        _connector = connector;
        _time = time;
    }

    /// <inheritdoc />
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);

        base.ConfigureHandler(context, handler);
        var options = Resolve(context);

        handler.MaxConnectionsPerServer = options.MaxConnectionsPerHost;
        handler.EnableMultipleHttp2Connections = false;
        handler.PooledConnectionIdleTimeout = options.PooledConnectionIdleTimeout;
        handler.PooledConnectionLifetime = options.PooledConnectionLifetime;
        handler.ConnectTimeout = options.ConnectTimeout;
        handler.Expect100ContinueTimeout = options.Expect100ContinueTimeout;
        handler.MaxResponseHeadersLength = (int)Math.Ceiling(options.MaxResponseHeadersSize / 1024.0);
        handler.ResponseDrainTimeout = options.ResponseDrainTimeout;
        handler.KeepAlivePingDelay = options.Http2KeepAlivePingDelay;
        handler.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        var pools = new ClusterPools(context.ClusterId, options);
        s_pools.AddOrUpdate(handler, pools);
        handler.ConnectCallback = _connector.CreateCallback(pools);

        if (context.NewConfig.DangerousAcceptAnyServerCertificate == true)
        {
            LogCertificateValidationOff(_logger, context.ClusterId);
        }
    }

    /// <inheritdoc />
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);

        // ForwarderHttpClientFactory passes the handler it just configured, so its pools are found here.
        var pools = handler is SocketsHttpHandler sockets && s_pools.TryGetValue(sockets, out var configured)
            ? configured
            : new ClusterPools(context.ClusterId, Resolve(context));
        var inner = base.WrapHandler(context, handler);
        var admission = new OutboundAdmissionHandler(inner, pools, _metrics, _time);
        _registry.SetHandler(context.ClusterId, admission);
        return admission;
    }

    /// <inheritdoc />
    protected override bool CanReuseOldClient(ForwarderHttpClientContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // YARP compares only the cluster's HttpClient section; the guard's settings travel in the metadata.
        return base.CanReuseOldClient(context)
            && Fingerprint(context.OldMetadata) == Fingerprint(context.NewMetadata);
    }

    private OutboundOptions Resolve(ForwarderHttpClientContext context) =>
        ClusterOutboundOptions.Resolve(_defaults.Current, context.ClusterId, context.NewMetadata, [], []);

    private static string? Fingerprint(IReadOnlyDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(OutboundConfigFilter.FingerprintKey, out var value) ? value : null;

    [LoggerMessage(EventId = 4101, EventName = "CertificateValidationOff", Level = LogLevel.Warning,
        Message = "TLS certificate validation is off for cluster {Cluster} (HttpClient:DangerousAcceptAnyServerCertificate): its upstream can be impersonated")]
    private static partial void LogCertificateValidationOff(ILogger logger, string cluster);
}
