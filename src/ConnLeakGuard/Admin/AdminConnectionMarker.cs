using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Marks connections accepted on the admin listener, so the request pipeline routes by the listener that
/// accepted the connection and never by the <c>Host</c> header, which the client controls.
/// </summary>
internal sealed class AdminConnectionMarker
{
    private static readonly object s_itemKey = new();

    /// <summary>Wraps the admin listener's connection handler.</summary>
#pragma warning disable CA1822 // An instance method keeps the listener setup uniform with the proxy middleware.
    public ConnectionDelegate Wrap(ConnectionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);

        return connection =>
        {
            connection.Items[s_itemKey] = true;
            return next(connection);
        };
    }
#pragma warning restore CA1822

    /// <summary>Returns whether <paramref name="context"/> arrived on the admin listener.</summary>
    public static bool IsAdminRequest(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        return context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(s_itemKey) == true;
    }
}
