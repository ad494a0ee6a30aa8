using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// The proxy and admin listeners as bound. With port 0 in the configuration, Kestrel picks a free port and
/// updates the listener, so these are the real ports once the server has started.
/// </summary>
internal sealed class ListenerEndpoints
{
    private readonly List<ListenOptions> _proxy = [];
    private readonly List<ListenOptions> _admin = [];

    /// <summary>The proxy listener endpoints.</summary>
    public IReadOnlyList<IPEndPoint> Proxy => _proxy.Select(l => l.IPEndPoint!).ToList();

    /// <summary>The admin listener endpoints.</summary>
    public IReadOnlyList<IPEndPoint> Admin => _admin.Select(l => l.IPEndPoint!).ToList();

    internal void AddProxy(ListenOptions listen) => _proxy.Add(listen);

    internal void AddAdmin(ListenOptions listen) => _admin.Add(listen);
}
