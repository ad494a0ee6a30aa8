using System.Collections.Concurrent;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// The open client connections. Adding and removing happen once per connection; requests never touch the
/// dictionary, so the per-request path takes no lock.
/// </summary>
internal sealed class InboundConnectionRegistry
{
    private readonly ConcurrentDictionary<InboundConnection, byte> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly ConnectionMetrics _metrics;

    public InboundConnectionRegistry(ConnectionMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);

        _metrics = metrics;
    }

    /// <summary>Number of open connections.</summary>
    public int Count => _connections.Count;

    /// <summary>Adds a newly accepted connection.</summary>
    public void Add(InboundConnection connection) => _connections.TryAdd(connection, 0);

    /// <summary>Removes a closed connection and records its age.</summary>
    public void Remove(InboundConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);

        if (_connections.TryRemove(connection, out _))
        {
            _metrics.ConnectionClosed(ConnectionSides.Inbound, connection.Time.GetElapsedTime(connection.OpenedTimestamp));
        }
    }

    /// <summary>Returns the open connection whose Kestrel connection id is <paramref name="connectionId"/>, or null.</summary>
    public InboundConnection? Find(string connectionId)
    {
        ArgumentNullException.ThrowIfNull(connectionId);

        // A linear scan: this serves an operator's request, and an index by id would cost every connection a
        // second dictionary update.
        foreach (var pair in _connections)
        {
            if (string.Equals(pair.Key.ConnectionId, connectionId, StringComparison.Ordinal))
            {
                return pair.Key;
            }
        }

        return null;
    }

    /// <summary>Returns a moment-in-time view of the open connections, safe to enumerate while they change.</summary>
    public IEnumerable<InboundConnection> Snapshot()
    {
        foreach (var pair in _connections)
        {
            yield return pair.Key;
        }
    }
}
