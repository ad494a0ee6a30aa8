using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Sends one complete keep-alive GET, reads the response, then keeps the connection open without
/// sending anything more, until the server closes it. Both the no-pool client and the idle holder
/// do this; they differ only in how often and how many connections their pool opens.
/// </summary>
internal sealed class RequestThenHoldBehavior : IHostileBehavior
{
    private readonly string _path;

    public RequestThenHoldBehavior(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
    }

    public void Configure(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
    }

    public async Task RunAsync(Socket socket, string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);

        byte[] request = Encoding.ASCII.GetBytes($"GET {_path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);

        int status = await HttpResponseReader.ReadAsync(socket, cancellationToken);
        if (status == 0)
        {
            return;
        }

        await PeerClose.WaitAsync(socket, cancellationToken);
    }
}
