using System.Net.Sockets;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>What one misbehaving client does with one connected socket.</summary>
internal interface IHostileBehavior
{
    /// <summary>Socket options to set before connecting, such as a small receive buffer.</summary>
    void Configure(Socket socket);

    /// <summary>
    /// Runs the misbehaviour on <paramref name="socket"/> and returns when the server closes or
    /// resets the connection. The client itself never closes it; only cancellation ends it early.
    /// </summary>
    Task RunAsync(Socket socket, string host, CancellationToken cancellationToken);
}
