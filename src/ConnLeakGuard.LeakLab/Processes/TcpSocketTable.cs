using System.Globalization;

namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>
/// Counts the kernel's IPv4 TCP sockets from <c>/proc/net/tcp</c>: a view of open connections that
/// does not depend on what the process at either end reports about itself.
/// </summary>
internal static class TcpSocketTable
{
    // State codes from include/net/tcp_states.h, as hexadecimal in the "st" column.
    private const int Established = 0x01;
    private const int CloseWait = 0x08;

    /// <summary>
    /// Counts, for each of <paramref name="localPorts"/>, the connections whose local port it is and
    /// which the server side still holds: ESTABLISHED, or CLOSE_WAIT (the client closed, the server
    /// has not yet). Returns null when the table cannot be read. Reads the table once for all ports,
    /// because with thousands of sockets each read costs the kernel noticeable time.
    /// </summary>
    public static IReadOnlyDictionary<int, int>? CountServerConnections(params int[] localPorts)
    {
        ArgumentNullException.ThrowIfNull(localPorts);

        var counts = localPorts.Distinct().ToDictionary(port => port, _ => 0);
        try
        {
            foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
            {
                // Columns: "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT.
                if (!TryParseLocalPortAndState(line, out int port, out int state))
                {
                    continue;
                }

                if ((state == Established || state == CloseWait) && counts.TryGetValue(port, out int count))
                {
                    counts[port] = count + 1;
                }
            }
        }
        catch (IOException)
        {
            return null;
        }

        return counts;
    }

    private static bool TryParseLocalPortAndState(ReadOnlySpan<char> line, out int port, out int state)
    {
        port = 0;
        state = 0;

        line = line.TrimStart();
        int slotEnd = line.IndexOf(' ');
        if (slotEnd < 0)
        {
            return false;
        }

        ReadOnlySpan<char> rest = line[(slotEnd + 1)..].TrimStart();
        int localEnd = rest.IndexOf(' ');
        if (localEnd < 0)
        {
            return false;
        }

        ReadOnlySpan<char> local = rest[..localEnd];
        rest = rest[(localEnd + 1)..].TrimStart();
        int remoteEnd = rest.IndexOf(' ');
        if (remoteEnd < 0)
        {
            return false;
        }

        ReadOnlySpan<char> stateText = rest[(remoteEnd + 1)..].TrimStart();
        int colon = local.IndexOf(':');
        return colon >= 0
            && stateText.Length >= 2
            && int.TryParse(local[(colon + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out port)
            && int.TryParse(stateText[..2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out state);
    }
}
