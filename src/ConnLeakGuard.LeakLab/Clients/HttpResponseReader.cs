using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>Reads one HTTP/1.1 response with a Content-Length body from a raw socket.</summary>
internal static class HttpResponseReader
{
    /// <summary>
    /// Reads the status line, the headers and the body. Returns the status code, or 0 when the
    /// connection ended first or the response is malformed.
    /// </summary>
    public static async Task<int> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[8192];
        int filled = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
            {
                return 0;
            }

            int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return 0;
            }

            filled += read;
        }

        string head = Encoding.ASCII.GetString(buffer, 0, headEnd);
        string[] lines = head.Split("\r\n");
        string[] statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
        {
            return 0;
        }

        long contentLength = 0;
        foreach (string line in lines.Skip(1))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                _ = long.TryParse(line.AsSpan("Content-Length:".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out contentLength);
            }
        }

        long remaining = contentLength - (filled - headEnd - 4);
        while (remaining > 0)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return 0;
            }

            remaining -= read;
        }

        return status;
    }
}
