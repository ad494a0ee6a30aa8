using ConnLeakGuard.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// Resolves a cluster's outbound options: the guard-wide <c>ConnLeakGuard:Outbound</c> defaults, overridden
/// by the cluster's metadata entries <c>ConnLeakGuard.KEY</c> (for example
/// <c>ReverseProxy:Clusters:app:Metadata:ConnLeakGuard.MaxConnectionsPerHost</c> = <c>20</c>).
/// </summary>
internal static class ClusterOutboundOptions
{
    /// <summary>Prefix of the guard's metadata keys.</summary>
    public const string MetadataPrefix = "ConnLeakGuard.";

    /// <summary>Returns the options for <paramref name="cluster"/>, adding invalid metadata values to <paramref name="problems"/>.</summary>
    public static OutboundOptions Resolve(OutboundOptions defaults, ClusterConfig cluster, List<ConfigurationProblem> problems, List<string> disabledLimits)
    {
        ArgumentNullException.ThrowIfNull(cluster);

        return Resolve(defaults, cluster.ClusterId, cluster.Metadata, problems, disabledLimits);
    }

    /// <summary>Returns the options for the cluster with <paramref name="metadata"/>, adding invalid values to <paramref name="problems"/>.</summary>
    public static OutboundOptions Resolve(OutboundOptions defaults, string clusterId, IReadOnlyDictionary<string, string>? metadata, List<ConfigurationProblem> problems, List<string> disabledLimits)
    {
        ArgumentNullException.ThrowIfNull(defaults);

        var resolved = defaults.Copy();
        if (metadata is null)
        {
            return resolved;
        }

        foreach (var (key, value) in metadata)
        {
            if (!key.StartsWith(MetadataPrefix, StringComparison.Ordinal) || key == OutboundConfigFilter.FingerprintKey)
            {
                continue;
            }

            var setting = key[MetadataPrefix.Length..];
            GuardOptionsBinder.TryBindSetting(resolved, setting, value, $"ReverseProxy:Clusters:{clusterId}:Metadata:{key}", problems, disabledLimits);
        }

        return resolved;
    }
}
