using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// Applied by YARP to every route and cluster it loads: rejects invalid guard metadata (YARP then keeps the
/// previous configuration), gives each cluster the guard's activity timeout unless the cluster sets its own,
/// and stamps the cluster with a fingerprint of its resolved outbound options so that a change of the
/// guard-wide defaults rebuilds the cluster's connection pool.
/// </summary>
internal sealed class OutboundConfigFilter : IProxyConfigFilter
{
    /// <summary>Metadata key holding the fingerprint of the resolved outbound options.</summary>
    public const string FingerprintKey = "ConnLeakGuard.Effective";

    private readonly OutboundDefaults _defaults;

    public OutboundConfigFilter(OutboundDefaults defaults)
    {
        _defaults = defaults;
    }

    /// <inheritdoc />
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(cluster);

        var problems = new List<ConfigurationProblem>();
        var resolved = ClusterOutboundOptions.Resolve(_defaults.Current, cluster, problems, []);
        ThrowIfAny(problems);

        var metadata = new Dictionary<string, string>(cluster.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [FingerprintKey] = resolved.ToString(),
        };
        var request = cluster.HttpRequest ?? new ForwarderRequestConfig();
        if (request.ActivityTimeout is null)
        {
            request = request with { ActivityTimeout = resolved.ActivityTimeout };
        }

        return ValueTask.FromResult(cluster with { Metadata = metadata, HttpRequest = request });
    }

    /// <inheritdoc />
    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(route);

        var problems = new List<ConfigurationProblem>();
        RouteLimits.Parse(route, problems);
        ThrowIfAny(problems);
        return ValueTask.FromResult(route);
    }

    private static void ThrowIfAny(List<ConfigurationProblem> problems)
    {
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }
    }
}
