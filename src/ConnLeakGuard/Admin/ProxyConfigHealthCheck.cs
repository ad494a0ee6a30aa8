using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Readiness of the proxy configuration in force: at least one route, and every route's cluster exists and
/// has at least one destination. The start-up check rejects such a file, but a reload can still empty a
/// cluster (YARP accepts that), and then every request on it would fail with 503.
/// </summary>
internal sealed class ProxyConfigHealthCheck(IProxyStateLookup proxyState) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var routes = 0;
        foreach (var route in proxyState.GetRoutes())
        {
            routes++;
            var cluster = route.Cluster;
            if (cluster is null)
            {
                problems.Add($"route '{route.Config.RouteId}' refers to cluster '{route.Config.ClusterId}', which does not exist");
            }
            else if (cluster.Destinations.IsEmpty)
            {
                problems.Add($"cluster '{cluster.ClusterId}' of route '{route.Config.RouteId}' has no destinations");
            }
        }

        if (routes == 0)
        {
            problems.Add("the proxy configuration has no routes");
        }

        return Task.FromResult(problems.Count == 0
            ? HealthCheckResult.Healthy($"{routes} routes with destinations")
            : HealthCheckResult.Unhealthy("invalid proxy configuration: " + string.Join("; ", problems)));
    }
}
