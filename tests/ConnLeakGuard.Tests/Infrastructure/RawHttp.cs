using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>Raw-socket HTTP/1.1 helpers for clients that misbehave on purpose.</summary>
public static class RawHttp
{
    /// <summary>Opens a TCP connection to <paramref name="endPoint"/>.</summary>
    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return socket;
    }

    /// <summary>Sends <paramref name="text"/> as ASCII.</summary>
    public static async Task SendAsync(Socket socket, string text)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);
    }

    /// <summary>
    /// Reads until the end of the response headers, then reads the body per Content-Length. Returns null if
    /// the connection closed first, or throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<RawResponse?> ReadResponseAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        var received = new MemoryStream();
        int headerEnd;

        try
        {
            while ((headerEnd = IndexOfHeaderEnd(received)) < 0)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    return null;
                }

                received.Write(buffer, 0, read);
            }

            var head = Encoding.ASCII.GetString(received.GetBuffer(), 0, headerEnd);
            var response = RawResponse.ParseHead(head);
            var bodyBytes = received.Length - (headerEnd + 4);
            if (response.Chunked)
            {
                // Test responses are small: reading up to the last-chunk marker is enough to leave the
                // connection positioned at the next response.
                while (!EndsWithLastChunk(received))
                {
                    var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    received.Write(buffer, 0, read);
                }

                return response;
            }

            var contentLength = response.ContentLength ?? 0;
            while (bodyBytes < contentLength)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    break;
                }

                bodyBytes += read;
            }

            return response;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No complete response within {timeout}.");
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>Returns true when the peer closes or resets the connection within <paramref name="timeout"/>; reads and discards data meanwhile.</summary>
    public static async Task<bool> WaitForCloseAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static bool EndsWithLastChunk(MemoryStream stream) =>
        stream.GetBuffer().AsSpan(0, (int)stream.Length).EndsWith("0\r\n\r\n"u8);

    private static int IndexOfHeaderEnd(MemoryStream stream)
    {
        var data = stream.GetBuffer().AsSpan(0, (int)stream.Length);
        return data.IndexOf("\r\n\r\n"u8);
    }
}

/// <summary>Status and headers of a response read from a raw socket.</summary>
public sealed record RawResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>Content-Length, when present.</summary>
    public long? ContentLength => Headers.TryGetValue("content-length", out var value) ? long.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>Whether the body is chunked.</summary>
    public bool Chunked => Headers.TryGetValue("transfer-encoding", out var value) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the response carries <c>Connection: close</c>.</summary>
    public bool ConnectionClose => Headers.TryGetValue("connection", out var value) && value.Contains("close", StringComparison.OrdinalIgnoreCase);

    internal static RawResponse ParseHead(string head)
    {
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        return new RawResponse(status, headers);
    }
}
