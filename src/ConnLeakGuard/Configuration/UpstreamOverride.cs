using Microsoft.Extensions.Configuration;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Implements <c>--upstream URL</c>: replaces the <c>ReverseProxy</c> section with one catch-all route to one
/// destination, for the common sidecar case of a single app in the pod.
/// </summary>
internal static class UpstreamOverride
{
    /// <summary>Configuration key that carries the <c>--upstream</c> value.</summary>
    public const string SwitchKey = "ConnLeakGuard:Upstream";

    /// <summary>Route, cluster and destination name used by the override.</summary>
    public const string Name = "app";

    /// <summary>
    /// Returns configuration values that describe the single-upstream proxy, or null when no override is set.
    /// </summary>
    public static Dictionary<string, string?>? Build(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var upstream = configuration[SwitchKey];
        if (string.IsNullOrWhiteSpace(upstream))
        {
            return null;
        }

        return new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:{Name}:ClusterId"] = Name,
            [$"ReverseProxy:Routes:{Name}:Match:Path"] = "{**catch-all}",
            [$"ReverseProxy:Clusters:{Name}:Destinations:{Name}:Address"] = upstream,
        };
    }
}
