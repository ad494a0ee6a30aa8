using System.Collections.Concurrent;
using ConnLeakGuard.Configuration;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// The destination pools of one cluster handler, shared by its admission handler (request slots and wait
/// queue) and its connect callback (connection permits). A rebuilt handler gets a new instance, so
/// connections and requests of the old one finish under the limits they started with.
/// </summary>
internal sealed class ClusterPools
{
    private readonly ConcurrentDictionary<string, DestinationPool> _pools = new(StringComparer.OrdinalIgnoreCase);

    public ClusterPools(string cluster, OutboundOptions options)
    {
        Cluster = cluster;
        Options = options;
    }

    /// <summary>Cluster id.</summary>
    public string Cluster { get; }

    /// <summary>The cluster's resolved outbound options.</summary>
    public OutboundOptions Options { get; }

    /// <summary>The pools created so far.</summary>
    public IEnumerable<DestinationPool> Pools => _pools.Values;

    /// <summary>Returns the pool of <paramref name="destination"/> ("host:port"), creating it on first use.</summary>
    public DestinationPool Get(string destination) =>
        _pools.GetOrAdd(destination, static (key, self) => new DestinationPool(self.Cluster, key, self.Options.MaxConnectionsPerHost, self.Options.MaxPendingRequests), this);
}
