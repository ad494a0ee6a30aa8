using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// Registers the outbound side: YARP with routes and clusters from configuration, each cluster's client
/// built by <see cref="GuardForwarderHttpClientFactory"/> with a bounded pool and wait queue.
/// </summary>
internal static class OutboundSetup
{
    /// <summary>Adds YARP, loading <c>ReverseProxy</c> (or the <c>--upstream</c> override).</summary>
    public static WebApplicationBuilder AddGuardOutbound(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // YARP's session affinity protects cookies with data protection. Ephemeral keys avoid writing a key
        // ring to disk, which a read-only root file system forbids; affinity cookies then last one process.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();

        builder.Services.AddSingleton<OutboundPoolRegistry>();
        builder.Services.AddSingleton<OutboundMetrics>();
        builder.Services.AddSingleton<OutboundConnector>();
        builder.Services.AddSingleton<OutboundDefaults>();
        builder.Services.AddSingleton<UpstreamFailureLog>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, GuardForwarderHttpClientFactory>();

        builder.Services.AddReverseProxy()
            .LoadFromConfig(GuardOptionsLoader.GetProxySection(builder.Configuration))
            .AddConfigFilter<OutboundConfigFilter>();
        return builder;
    }

    /// <summary>Maps the proxy, with the guard's per-request limits first in its pipeline.</summary>
    public static WebApplication MapGuardProxy(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Routing is placed here, after the admin branch, so admin requests never match a proxy route.
        app.UseRouting();
        app.MapReverseProxy(proxy =>
        {
            // The completion log wraps everything, so it records the final status set by the limits below.
            proxy.UseMiddleware<ProxyRequestLogMiddleware>();
            proxy.UseMiddleware<InboundRequestMiddleware>();
            proxy.UseMiddleware<UpstreamErrorMiddleware>();
        });
        return app;
    }
}
