using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ConnLeakGuard.Lifecycle;

/// <summary>Registers readiness and graceful shutdown.</summary>
internal static class LifecycleSetup
{
    /// <summary>Adds readiness tracking and sets the host's shutdown timeout from the drain settings.</summary>
    public static WebApplicationBuilder AddGuardLifecycle(this WebApplicationBuilder builder, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        builder.Services.AddSingleton<GuardReadiness>();
        builder.Services.AddHostedService<StartupBanner>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Shutdown.DrainDelay + options.Shutdown.DrainTimeout);
        return builder;
    }
}
