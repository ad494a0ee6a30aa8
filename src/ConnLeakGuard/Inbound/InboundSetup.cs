using ConnLeakGuard.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>Registers the inbound side: Kestrel limits, listeners, connection tracking and deadlines.</summary>
internal static class InboundSetup
{
    /// <summary>Adds the inbound services.</summary>
    public static WebApplicationBuilder AddGuardInbound(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var services = builder.Services;
        services.AddSingleton<InboundConnectionRegistry>();
        services.AddSingleton<ClientIpConnectionCounter>();
        services.AddSingleton<InboundConnectionMiddleware>();
        services.AddSingleton<AdminConnectionMarker>();
        services.AddSingleton<ListenerEndpoints>();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelLimitsSetup>();
        services.AddSingleton<InboundDeadlineSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<InboundDeadlineSweeper>());
        return builder;
    }
}
