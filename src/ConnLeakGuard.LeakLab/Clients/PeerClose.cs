using System.Net.Sockets;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>Helpers to notice that the server closed a connection the client keeps open.</summary>
internal static class PeerClose
{
    /// <summary>
    /// Reads and drops whatever the server sends until it closes or resets the connection. A server
    /// that times a request out usually sends a short error response first (408, 400) and then closes.
    /// </summary>
    public static async Task WaitAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[512];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
                // Drop the bytes: only the end of the stream matters here.
            }
        }
        catch (SocketException)
        {
            // A reset ends the connection as well as a FIN does.
        }
    }
}
