using ConnLeakGuard.Lifecycle;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnLeakGuard.Admin;

/// <summary>Readiness as set by the lifecycle and overload components through <see cref="GuardReadiness"/>.</summary>
internal sealed class DrainReadinessHealthCheck(GuardReadiness readiness) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var reason = readiness.Reason;
        return Task.FromResult(reason is null
            ? HealthCheckResult.Healthy("accepting traffic")
            : HealthCheckResult.Unhealthy(reason));
    }
}
