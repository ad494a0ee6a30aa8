using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ConnLeakGuard.Lifecycle;

/// <summary>Registers readiness, the start-up banner and the graceful drain on SIGTERM.</summary>
internal static class LifecycleSetup
{
    /// <summary>Adds readiness tracking and the draining lifetime, with the host's shutdown timeout set to the drain timeout.</summary>
    public static WebApplicationBuilder AddGuardLifecycle(this WebApplicationBuilder builder, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        builder.Services.AddSingleton<GuardReadiness>();
        builder.Services.AddHostedService<StartupBanner>();
        builder.Services.AddSingleton<IHostLifetime, DrainingHostLifetime>();

        // The drain delay runs before the host stops; the shutdown timeout bounds only the wait for
        // in-flight requests, after which Kestrel aborts the connections that are left.
        // NOTE: read at start-up; a reloaded DrainTimeout applies after a restart, while DrainDelay applies live.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Shutdown.DrainTimeout);
        return builder;
    }
}
