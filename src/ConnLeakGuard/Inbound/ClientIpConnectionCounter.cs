using System.Collections.Concurrent;
using System.Net;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Counts open connections per client IP address for <c>ConnLeakGuard:Inbound:MaxConnectionsPerClientIp</c>.
/// Entries are removed when their count returns to zero, so the table holds only current clients.
/// </summary>
internal sealed class ClientIpConnectionCounter
{
    private readonly ConcurrentDictionary<IPAddress, int> _counts = new();

    /// <summary>Tries to count one more connection from <paramref name="address"/>; fails when that would exceed <paramref name="limit"/>.</summary>
    public bool TryAcquire(IPAddress address, int limit)
    {
        ArgumentNullException.ThrowIfNull(address);

        while (true)
        {
            if (!_counts.TryGetValue(address, out var current))
            {
                if (_counts.TryAdd(address, 1))
                {
                    return true;
                }

                continue;
            }

            if (current >= limit)
            {
                return false;
            }

            if (_counts.TryUpdate(address, current + 1, current))
            {
                return true;
            }
        }
    }

    /// <summary>Releases a connection counted by <see cref="TryAcquire"/>.</summary>
    public void Release(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);

        while (_counts.TryGetValue(address, out var current))
        {
            var released = current <= 1
                ? _counts.TryRemove(new KeyValuePair<IPAddress, int>(address, current))
                : _counts.TryUpdate(address, current - 1, current);

            if (released)
            {
                return;
            }
        }
    }

    /// <summary>Returns the number of open connections from <paramref name="address"/>.</summary>
    public int GetCount(IPAddress address) => _counts.TryGetValue(address, out var count) ? count : 0;
}
