using ConnLeakGuard.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ConnLeakGuard.Admin;

/// <summary>Serves the admin endpoints on the admin listener only.</summary>
internal static class AdminSetup
{
    /// <summary>
    /// Branches admin-listener requests into their own pipeline before any proxy routing, so admin endpoints
    /// are never proxied and the proxy port never serves them.
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
                endpoints.MapGet("/healthz/live", static () => Results.Text("live\n"));
                endpoints.MapGet("/healthz/ready", static (GuardReadiness readiness) => readiness.IsReady
                    ? Results.Text("ready\n")
                    : Results.Text($"not ready: {readiness.Reason}\n", statusCode: StatusCodes.Status503ServiceUnavailable));
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
