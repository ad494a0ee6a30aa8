using System.Collections.Concurrent;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// The current cluster handlers with their destination pools, and the open upstream connections, for
/// metrics and the connection table. A reload that rebuilds a cluster's handler replaces it here; requests
/// already holding a slot of the old handler finish under the limits they started with.
/// </summary>
internal sealed class OutboundPoolRegistry
{
    private readonly ConcurrentDictionary<string, OutboundAdmissionHandler> _handlers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string Cluster, string Destination), int> _openConnections = new();
    private readonly ConcurrentDictionary<OutboundConnectionStream, byte> _connections = new(ReferenceEqualityComparer.Instance);

    /// <summary>Makes <paramref name="handler"/> the current handler of <paramref name="cluster"/>.</summary>
    public void SetHandler(string cluster, OutboundAdmissionHandler handler) => _handlers[cluster] = handler;

    /// <summary>The pools of the current cluster handlers.</summary>
    public IEnumerable<DestinationPool> Pools => _handlers.Values.SelectMany(h => h.Pools);

    /// <summary>The open upstream connections, for the connection table.</summary>
    public IEnumerable<OutboundConnectionStream> Connections => _connections.Keys;

    /// <summary>Records a new connection.</summary>
    public void ConnectionOpened(OutboundConnectionStream connection)
    {
        ArgumentNullException.ThrowIfNull(connection);

        _connections.TryAdd(connection, 0);
        _openConnections.AddOrUpdate((connection.Cluster, connection.Destination), 1, static (_, count) => count + 1);
    }

    /// <summary>Records a closed connection.</summary>
    public void ConnectionClosed(OutboundConnectionStream connection)
    {
        ArgumentNullException.ThrowIfNull(connection);

        _connections.TryRemove(connection, out _);
        _openConnections.AddOrUpdate((connection.Cluster, connection.Destination), 0, static (_, count) => Math.Max(0, count - 1));
    }

    /// <summary>Open connections per destination.</summary>
    public IEnumerable<KeyValuePair<(string Cluster, string Destination), int>> OpenConnections => _openConnections;

    /// <summary>Returns the open connections to the destination.</summary>
    public int GetOpenConnections(string cluster, string destination) =>
        _openConnections.TryGetValue((cluster, destination), out var count) ? count : 0;
}
