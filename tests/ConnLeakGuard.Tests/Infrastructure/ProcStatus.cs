using System.Globalization;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>Reads process figures from <c>/proc</c>.</summary>
public static class ProcStatus
{
    /// <summary>Returns VmRSS of <paramref name="processId"/> in bytes.</summary>
    public static long ReadResidentBytes(int processId)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"VmRSS not found for process {processId}");
    }

    /// <summary>Counts ESTABLISHED TCP sockets whose local port is <paramref name="port"/> (IPv4 and IPv6).</summary>
    public static int CountEstablished(int port)
    {
        var count = 0;
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1];
                var localPort = int.Parse(local[(local.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

                // State 01 is ESTABLISHED.
                if (localPort == port && fields[3] == "01")
                {
                    count++;
                }
            }
        }

        return count;
    }
}
