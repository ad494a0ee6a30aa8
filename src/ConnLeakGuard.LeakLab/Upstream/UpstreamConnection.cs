using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>
/// Serves HTTP/1.1 requests on one accepted socket the way a naive server does: no read, write or
/// idle timeout, and a read buffer allocated when the connection opens and kept until the client
/// closes it. A client that never closes therefore pins the buffer and this handler for ever.
/// </summary>
internal sealed class UpstreamConnection
{
    /// <summary>The path that returns a body of <c>?bytes=N</c> bytes (default 8 MiB), for slow readers.</summary>
    public const string DownloadPath = "/download";

    private const long DefaultDownloadBytes = 8L * 1024 * 1024;
    private const long MaxDownloadBytes = 64L * 1024 * 1024;

    private static readonly byte[] OkResponse = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");

    private static readonly byte[] DownloadChunk = CreateDownloadChunk();

    private readonly Socket _socket;
    private readonly int _bufferSize;
    private readonly UpstreamCounters _counters;

    public UpstreamConnection(Socket socket, int bufferSize, UpstreamCounters counters)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1024);

        _socket = socket;
        _bufferSize = bufferSize;
        _counters = counters;
    }

    public async Task ServeAsync(CancellationToken cancellationToken)
    {
        // The per-connection state that leaks: allocated (and so zeroed and resident) up front.
        byte[] buffer = new byte[_bufferSize];
        int filled = 0;

        while (true)
        {
            int headEnd = buffer.AsSpan(0, filled).IndexOf(RequestHead.Terminator);
            while (headEnd < 0)
            {
                if (filled == buffer.Length)
                {
                    await SendStatusAndCloseAsync(431, "Request Header Fields Too Large", cancellationToken);
                    return;
                }

                int read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                headEnd = buffer.AsSpan(0, filled).IndexOf(RequestHead.Terminator);
            }

            if (!RequestHead.TryParse(buffer.AsSpan(0, headEnd), out RequestHead? request) || request is null)
            {
                await SendStatusAndCloseAsync(400, "Bad Request", cancellationToken);
                return;
            }

            if (request.IsChunked)
            {
                // NOTE: chunked request bodies are not decoded; LeakLab's own clients always send Content-Length.
                await SendStatusAndCloseAsync(501, "Not Implemented", cancellationToken);
                return;
            }

            int consumed = headEnd + RequestHead.Terminator.Length;
            (bool bodyComplete, int leftoverStart) = await DiscardBodyAsync(buffer, consumed, filled, request.ContentLength, cancellationToken);
            if (!bodyComplete)
            {
                return;
            }

            filled = ShiftLeftover(buffer, leftoverStart, filled);

            await RespondAsync(request, cancellationToken);
            _counters.RequestServed();

            if (request.CloseAfterResponse)
            {
                return;
            }
        }
    }

    // Reads and drops the request body. Returns where unread pipelined bytes start in the buffer,
    // or -1 when the body had to be read past the buffered bytes (nothing is left over then).
    private async Task<(bool Complete, int LeftoverStart)> DiscardBodyAsync(
        byte[] buffer, int consumed, int filled, long contentLength, CancellationToken cancellationToken)
    {
        long buffered = filled - consumed;
        if (contentLength <= buffered)
        {
            return (true, consumed + (int)contentLength);
        }

        long remaining = contentLength - buffered;
        while (remaining > 0)
        {
            int toRead = (int)Math.Min(buffer.Length, remaining);
            int read = await _socket.ReceiveAsync(buffer.AsMemory(0, toRead), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return (false, -1);
            }

            remaining -= read;
        }

        return (true, -1);
    }

    private static int ShiftLeftover(byte[] buffer, int leftoverStart, int filled)
    {
        if (leftoverStart < 0)
        {
            return 0;
        }

        int leftover = filled - leftoverStart;
        buffer.AsSpan(leftoverStart, leftover).CopyTo(buffer);
        return leftover;
    }

    private async Task RespondAsync(RequestHead request, CancellationToken cancellationToken)
    {
        if (!request.Target.StartsWith(DownloadPath, StringComparison.Ordinal))
        {
            await _socket.SendAsync(OkResponse, SocketFlags.None, cancellationToken);
            return;
        }

        long length = ParseDownloadBytes(request.Target);
        string head = string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n");
        await _socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cancellationToken);

        // No write timeout: a reader that stops reading parks this loop in SendAsync for ever.
        long sent = 0;
        while (sent < length)
        {
            int count = (int)Math.Min(DownloadChunk.Length, length - sent);
            sent += await _socket.SendAsync(DownloadChunk.AsMemory(0, count), SocketFlags.None, cancellationToken);
        }
    }

    private static long ParseDownloadBytes(string target)
    {
        int query = target.IndexOf("bytes=", StringComparison.Ordinal);
        if (query < 0)
        {
            return DefaultDownloadBytes;
        }

        ReadOnlySpan<char> value = target.AsSpan(query + "bytes=".Length);
        int end = value.IndexOf('&');
        if (end >= 0)
        {
            value = value[..end];
        }

        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes)
            ? Math.Min(bytes, MaxDownloadBytes)
            : DefaultDownloadBytes;
    }

    private async Task SendStatusAndCloseAsync(int statusCode, string reason, CancellationToken cancellationToken)
    {
        string response = string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 {statusCode} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        await _socket.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, cancellationToken);
    }

    private static byte[] CreateDownloadChunk()
    {
        byte[] chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill((byte)'x');
        return chunk;
    }
}
