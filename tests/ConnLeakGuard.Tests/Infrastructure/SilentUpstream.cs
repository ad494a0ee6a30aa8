using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>An upstream that accepts connections, reads what arrives and never answers.</summary>
public sealed class SilentUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private readonly Task _acceptLoop;

    private SilentUpstream(TcpListener listener)
    {
        _listener = listener;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Base address.</summary>
    public Uri Uri => new($"http://{_listener.LocalEndpoint}");

    /// <summary>Connections accepted so far.</summary>
    public int AcceptedConnections
    {
        get
        {
            lock (_accepted)
            {
                return _accepted.Count;
            }
        }
    }

    /// <summary>Starts listening on 127.0.0.1 with a free port.</summary>
    public static Task<SilentUpstream> StartAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Task.FromResult(new SilentUpstream(listener));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        lock (_accepted)
        {
            _accepted.ForEach(s => s.Dispose());
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }

                _ = DrainAsync(socket);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task DrainAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The guard closed the connection, or the test ended.
        }
    }
}
