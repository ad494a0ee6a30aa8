using ConnLeakGuard.Inbound;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Checks the <c>ReverseProxy</c> section with YARP's own validator, plus the guard's route and cluster
/// metadata, before the guard starts, so a bad route is one line on standard error rather than a stack trace.
/// </summary>
internal static class ProxyConfigValidation
{
    /// <summary>Returns the problems in <paramref name="proxySection"/>, or none.</summary>
    public static async Task<IReadOnlyList<ConfigurationProblem>> ValidateAsync(IConfiguration proxySection)
    {
        ArgumentNullException.ThrowIfNull(proxySection);

        var problems = new List<ConfigurationProblem>();
        var config = LoadProxyConfig(proxySection, problems, out var services);
        await using (services)
        {
            if (config is null)
            {
                return problems;
            }

            if (config.Routes.Count == 0)
            {
                problems.Add(new ConfigurationProblem("ReverseProxy:Routes", null, "no routes are configured; the guard would answer 404 to every request"));
            }

            var validator = services.GetRequiredService<IConfigValidator>();
            var clusterIds = config.Clusters.Select(c => c.ClusterId).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var route in config.Routes)
            {
                // YARP accepts a route to a missing cluster and answers 503 at request time; a sidecar with
                // such a route is misconfigured, so it fails here.
                if (route.ClusterId is { } clusterId && !clusterIds.Contains(clusterId))
                {
                    problems.Add(new ConfigurationProblem($"ReverseProxy:Routes:{route.RouteId}:ClusterId", clusterId, $"no cluster with this id; the clusters are: {string.Join(", ", clusterIds)}"));
                }

                foreach (var error in await validator.ValidateRouteAsync(route))
                {
                    problems.Add(new ConfigurationProblem($"ReverseProxy:Routes:{route.RouteId}", null, error.Message));
                }

                RouteLimits.Parse(route, problems);
            }

            foreach (var cluster in config.Clusters)
            {
                foreach (var error in await validator.ValidateClusterAsync(cluster))
                {
                    problems.Add(new ConfigurationProblem($"ReverseProxy:Clusters:{cluster.ClusterId}", null, error.Message));
                }
            }
        }

        return problems;
    }

    /// <summary>Loads the routes and clusters the way YARP does at start-up.</summary>
    public static IProxyConfig? LoadProxyConfig(IConfiguration proxySection, List<ConfigurationProblem> problems, out ServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(proxySection);
        ArgumentNullException.ThrowIfNull(problems);

        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.ClearProviders());
        collection.AddReverseProxy().LoadFromConfig(proxySection);
        services = collection.BuildServiceProvider();

        try
        {
            return services.GetRequiredService<IProxyConfigProvider>().GetConfig();
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException)
        {
            problems.Add(new ConfigurationProblem("ReverseProxy", null, ex.InnerException?.Message ?? ex.Message));
            return null;
        }
    }
}
