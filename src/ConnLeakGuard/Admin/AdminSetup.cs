using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConnLeakGuard.Admin;

/// <summary>Serves the admin endpoints on the admin listener only.</summary>
internal static class AdminSetup
{
    /// <summary>Health check tag of the checks behind <c>/healthz/live</c>.</summary>
    public const string LiveTag = "live";

    /// <summary>Health check tag of the checks behind <c>/healthz/ready</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the admin services: the liveness heartbeat, the health checks (<c>heartbeat</c> for
    /// liveness, <c>drain</c> (<see cref="Lifecycle.GuardReadiness"/>) and <c>proxy_config</c> for readiness),
    /// and the connection table with its leak monitor.
    /// </summary>
    public static IServiceCollection AddGuardHealth(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddSingleton<ConnectionMetrics>();
        services.AddSingleton<ConnectionTable>();
        services.AddSingleton<AdminEventLog>();
        services.AddSingleton<AdminConnectionCloser>();
        services.AddSingleton<LeakMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<LeakMonitor>());

        // TryAdd lets a test register a gate that treats loopback as remote before the guard is built.
        services.TryAddSingleton<RemoteActionGate>();

        services.AddSingleton<LivenessHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<LivenessHeartbeat>());

        // A check that takes longer than a probe's timeout is reported unhealthy instead of hanging the probe.
        var checkTimeout = TimeSpan.FromSeconds(2);
        services.AddHealthChecks()
            .AddCheck<LivenessHealthCheck>("heartbeat", tags: [LiveTag], timeout: checkTimeout)
            .AddCheck<DrainReadinessHealthCheck>("drain", tags: [ReadyTag], timeout: checkTimeout)
            .AddCheck<ProxyConfigHealthCheck>("proxy_config", tags: [ReadyTag], timeout: checkTimeout);
        return services;
    }

    /// <summary>
    /// Branches admin-listener requests into their own pipeline before any proxy routing, so admin endpoints
    /// are never proxied, never see the proxy's per-request limits, and the proxy port never serves them.
    /// </summary>
    public static WebApplication UseGuardAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapWhen(AdminConnectionMarker.IsAdminRequest, admin =>
        {
            admin.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == "/metrics");
            admin.UseRouting();
            admin.UseEndpoints(endpoints =>
            {
                endpoints.MapHealthChecks("/healthz/live", new HealthCheckOptions
                {
                    Predicate = static registration => registration.Tags.Contains(LiveTag),
                    ResponseWriter = HealthResponseWriter.For("live"),
                });
                endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions
                {
                    Predicate = static registration => registration.Tags.Contains(ReadyTag),
                    ResponseWriter = HealthResponseWriter.For("ready"),
                });
                endpoints.MapDebugEndpoints();
            });
            admin.Run(static context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
        return app;
    }
}
