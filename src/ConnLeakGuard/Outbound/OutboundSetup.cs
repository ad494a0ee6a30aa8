using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace ConnLeakGuard.Outbound;

/// <summary>Registers the outbound side: YARP with routes and clusters from configuration.</summary>
internal static class OutboundSetup
{
    /// <summary>Adds YARP, loading <c>ReverseProxy</c> (or the <c>--upstream</c> override).</summary>
    public static WebApplicationBuilder AddGuardOutbound(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // YARP's session affinity protects cookies with data protection. Ephemeral keys avoid writing a key
        // ring to disk, which a read-only root file system forbids; affinity cookies then last one process.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();

        builder.Services.AddReverseProxy()
            .LoadFromConfig(GuardOptionsLoader.GetProxySection(builder.Configuration));
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
            proxy.UseMiddleware<InboundRequestMiddleware>();
        });
        return app;
    }
}
