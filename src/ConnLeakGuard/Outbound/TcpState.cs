using System.Net.Sockets;

namespace ConnLeakGuard.Outbound;

/// <summary>Reads a socket's TCP state from the kernel (Linux <c>TCP_INFO</c>).</summary>
internal static class TcpState
{
    // Linux: IPPROTO_TCP level, TCP_INFO option; the first byte of struct tcp_info is tcpi_state.
    private const int TcpInfoOption = 11;
    private const byte TimeWait = 6;
    private const byte Close = 7;

    /// <summary>
    /// Returns whether both sides have closed the connection (TIME_WAIT or CLOSE), that is, the peer has
    /// received and answered the guard's FIN. Returns true where the state cannot be read, so callers never wait
    /// on a platform without <c>TCP_INFO</c>.
    /// </summary>
    public static bool IsClosedByPeer(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);

        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        Span<byte> info = stackalloc byte[8];
        var length = socket.GetRawSocketOption((int)SocketOptionLevel.Tcp, TcpInfoOption, info);
        return length < 1 || info[0] is TimeWait or Close;
    }
}
