using System.Net;
using ConnLeakGuard.Configuration;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Decides whether an admin request may change state (close a connection): always from a loopback client,
/// and from any other client only when <c>ConnLeakGuard:Admin:AllowRemoteActions</c> is true. Read-only
/// endpoints are not gated; they are reachable wherever the admin listener is bound.
/// </summary>
internal sealed class RemoteActionGate
{
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly Func<IPAddress, bool> _isLoopback;

    public RemoteActionGate(IOptionsMonitor<GuardOptions> options)
        : this(options, IPAddress.IsLoopback)
    {
    }

    /// <param name="options">The guard options, read on every call so a reload applies at once.</param>
    /// <param name="isLoopback">
    /// Classifies a client address; tests replace it to treat a loopback client as remote, because the test
    /// machine offers no non-loopback address to connect from.
    /// </param>
    internal RemoteActionGate(IOptionsMonitor<GuardOptions> options, Func<IPAddress, bool> isLoopback)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(isLoopback);

        _options = options;
        _isLoopback = isLoopback;
    }

    /// <summary>Returns whether a state-changing admin request from <paramref name="client"/> is accepted.</summary>
    public bool Allows(IPAddress? client)
    {
        if (_options.CurrentValue.Admin.AllowRemoteActions)
        {
            return true;
        }

        if (client is null)
        {
            // The admin listener binds TCP only, so a missing address is unexpected; an unproven client is remote.
            return false;
        }

        // A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d.
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        return _isLoopback(address);
    }
}
