using ConnLeakGuard.Admin;
using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>Registers the inbound side: Kestrel limits, listeners, connection tracking and deadlines.</summary>
internal static class InboundSetup
{
    /// <summary>Adds the inbound services.</summary>
    public static WebApplicationBuilder AddGuardInbound(this WebApplicationBuilder builder, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        // Accepted sockets inherit the listening socket's buffer sizes on Linux, so one setting here applies
        // to every client connection.
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.Backlog = options.Inbound.ListenBacklog;
            if (options.Inbound.SocketSendBufferSize is { } sendBuffer)
            {
                sockets.CreateBoundListenSocket = endpoint =>
                {
                    var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                    socket.SendBufferSize = checked((int)sendBuffer);
                    return socket;
                };
            }
        });

        var services = builder.Services;
        services.AddSingleton<InboundConnectionRegistry>();
        services.AddSingleton<ClientIpConnectionCounter>();
        services.AddSingleton<InboundConnectionMiddleware>();
        services.AddSingleton<AdminConnectionMarker>();
        services.AddSingleton<ListenerEndpoints>();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelLimitsSetup>();
        services.AddHostedService<KestrelLimitsReloader>();
        services.AddSingleton<InboundDeadlineSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<InboundDeadlineSweeper>());
        return builder;
    }
}
