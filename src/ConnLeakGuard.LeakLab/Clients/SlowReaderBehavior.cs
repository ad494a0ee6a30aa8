using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Requests a large download through a small receive buffer and reads <c>bytesPerTick</c> bytes every
/// <c>interval</c>. The server's send blocks once the socket buffers are full, so a server without a
/// write timeout or minimum response rate keeps the connection for as long as the reader lingers.
/// </summary>
internal sealed class SlowReaderBehavior : IHostileBehavior
{
    private const int ReceiveBufferBytes = 4096;

    private readonly long _downloadBytes;
    private readonly int _bytesPerTick;
    private readonly TimeSpan _interval;

    public SlowReaderBehavior(long downloadBytes, int bytesPerTick, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(downloadBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerTick);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);

        _downloadBytes = downloadBytes;
        _bytesPerTick = bytesPerTick;
        _interval = interval;
    }

    public void Configure(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);

        // Set before connecting so that the window advertised in the handshake is already small.
        socket.ReceiveBufferSize = ReceiveBufferBytes;
    }

    public async Task RunAsync(Socket socket, string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);

        string request = string.Create(
            CultureInfo.InvariantCulture,
            $"GET /download?bytes={_downloadBytes} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken);

        byte[] buffer = new byte[_bytesPerTick];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
                await Task.Delay(_interval, cancellationToken);
            }
        }
        catch (SocketException)
        {
            // Reset by the server: the connection is over.
        }
    }
}
