using System.Collections.Concurrent;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// The open client connections. Adding and removing happen once per connection; requests never touch the
/// dictionary, so the per-request path takes no lock.
/// </summary>
internal sealed class InboundConnectionRegistry
{
    private readonly ConcurrentDictionary<InboundConnection, byte> _connections = new(ReferenceEqualityComparer.Instance);

    /// <summary>Number of open connections.</summary>
    public int Count => _connections.Count;

    /// <summary>Adds a newly accepted connection.</summary>
    public void Add(InboundConnection connection) => _connections.TryAdd(connection, 0);

    /// <summary>Removes a closed connection.</summary>
    public void Remove(InboundConnection connection) => _connections.TryRemove(connection, out _);

    /// <summary>Returns a moment-in-time view of the open connections, safe to enumerate while they change.</summary>
    public IEnumerable<InboundConnection> Snapshot()
    {
        foreach (var pair in _connections)
        {
            yield return pair.Key;
        }
    }
}
