using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>
/// A raw-socket HTTP/1.1 server with no timeouts and no connection limit: one handler task and one
/// read buffer per accepted connection, kept until the client closes it.
/// </summary>
internal sealed class LeakyUpstreamServer : IDisposable
{
    private readonly Socket _listener;
    private readonly int _bufferSize;

    public LeakyUpstreamServer(IPEndPoint endpoint, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(endpoint);

        _bufferSize = bufferSize;
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(endpoint);

        // The kernel caps the backlog at net.core.somaxconn; a large request keeps bursts of
        // connects from being refused before the accept loop catches up.
        _listener.Listen(4096);
    }

    public UpstreamCounters Counters { get; } = new();

    public EndPoint LocalEndpoint => _listener.LocalEndPoint!;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // Descriptor exhaustion (EMFILE) or a connection reset while queued: keep accepting.
                await Task.Delay(10, cancellationToken);
                continue;
            }

            _ = ServeAsync(client, cancellationToken);
        }
    }

    public void Dispose() => _listener.Dispose();

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        Counters.ConnectionOpened();
        try
        {
            await new UpstreamConnection(client, _bufferSize, Counters).ServeAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client reset the connection or the server is stopping: either way the connection is over.
        }
        finally
        {
            client.Dispose();
            Counters.ConnectionClosed();
        }
    }
}
