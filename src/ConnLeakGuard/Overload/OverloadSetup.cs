using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ConnLeakGuard.Overload;

/// <summary>
/// Registers overload protection: the monitor that samples memory and descriptors, the shared level, and
/// the shedding components that the inbound hooks and the monitor call.
/// </summary>
internal static class OverloadSetup
{
    /// <summary>Adds the overload services; the hooks in Inbound and the Kestrel limits reloader resolve them.</summary>
    public static WebApplicationBuilder AddGuardOverload(this WebApplicationBuilder builder, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        var services = builder.Services;
        services.AddSingleton<OverloadState>();
        services.AddSingleton<OverloadMetrics>();
        services.AddSingleton<InboundLoadShedder>();
        services.AddSingleton<OutboundIdleCloser>();
        services.AddSingleton<OverloadMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<OverloadMonitor>());
        return builder;
    }
}
