using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Starts a GET and then sends one more header line every <c>interval</c>, never the empty line
/// that ends the headers. A server without a request-headers timeout waits for ever.
/// </summary>
internal sealed class SlowlorisBehavior : IHostileBehavior
{
    private readonly TimeSpan _interval;

    public SlowlorisBehavior(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
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

        byte[] start = Encoding.ASCII.GetBytes($"GET /slow HTTP/1.1\r\nHost: {host}\r\nUser-Agent: leaklab-slowloris\r\n");
        await socket.SendAsync(start, SocketFlags.None, cancellationToken);

        Task closed = PeerClose.WaitAsync(socket, cancellationToken);
        int line = 0;
        while (true)
        {
            Task tick = Task.Delay(_interval, cancellationToken);
            if (await Task.WhenAny(closed, tick) == closed)
            {
                await closed;
                return;
            }

            await tick;
            line++;
            byte[] header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"X-Trickle-{line}: {line}\r\n"));
            try
            {
                await socket.SendAsync(header, SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                await closed;
                return;
            }
        }
    }
}
