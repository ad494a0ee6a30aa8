using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnLeakGuard.Admin;

/// <summary>Liveness: healthy while the <see cref="LivenessHeartbeat"/> keeps beating.</summary>
internal sealed class LivenessHealthCheck(LivenessHeartbeat heartbeat) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var age = heartbeat.Age;
        var ageText = age.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        var result = age < heartbeat.StaleAfter
            ? HealthCheckResult.Healthy($"heartbeat {ageText} s ago")
            : HealthCheckResult.Unhealthy(
                $"heartbeat {ageText} s ago, over the limit of {heartbeat.StaleAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: the thread pool is starved or deadlocked");
        return Task.FromResult(result);
    }
}
