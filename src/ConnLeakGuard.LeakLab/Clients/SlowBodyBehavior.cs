using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Sends complete POST headers announcing <c>bodyBytes</c>, then <c>bytesPerTick</c> body bytes every
/// <c>interval</c>: far below any sane minimum data rate, so a server without one waits for ever.
/// </summary>
internal sealed class SlowBodyBehavior : IHostileBehavior
{
    private readonly long _bodyBytes;
    private readonly int _bytesPerTick;
    private readonly TimeSpan _interval;

    public SlowBodyBehavior(long bodyBytes, int bytesPerTick, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bodyBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerTick);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);

        _bodyBytes = bodyBytes;
        _bytesPerTick = bytesPerTick;
        _interval = interval;
    }

    public void Configure(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
    }

    public async Task RunAsync(Socket socket, string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);

        string head = string.Create(
            CultureInfo.InvariantCulture,
            $"POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\nContent-Length: {_bodyBytes}\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cancellationToken);

        Task closed = PeerClose.WaitAsync(socket, cancellationToken);
        byte[] chunk = new byte[_bytesPerTick];
        chunk.AsSpan().Fill((byte)'b');
        long sent = 0;
        while (sent < _bodyBytes)
        {
            Task tick = Task.Delay(_interval, cancellationToken);
            if (await Task.WhenAny(closed, tick) == closed)
            {
                await closed;
                return;
            }

            await tick;
            int count = (int)Math.Min(chunk.Length, _bodyBytes - sent);
            try
            {
                sent += await socket.SendAsync(chunk.AsMemory(0, count), SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                break;
            }
        }

        await closed;
    }
}
