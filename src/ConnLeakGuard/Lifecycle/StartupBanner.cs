using System.Net;
using ConnLeakGuard.Inbound;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Lifecycle;

/// <summary>
/// Logs the bound proxy and admin addresses once the server has started; with port 0 in the configuration
/// this line is the only place the chosen ports appear.
/// </summary>
internal sealed partial class StartupBanner : IHostedService
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ListenerEndpoints _endpoints;
    private readonly ILogger<StartupBanner> _logger;
    private CancellationTokenRegistration _registration;

    public StartupBanner(IHostApplicationLifetime lifetime, ListenerEndpoints endpoints, ILogger<StartupBanner> logger)
    {
        _lifetime = lifetime;
        _endpoints = endpoints;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = _lifetime.ApplicationStarted.Register(() =>
            LogStarted(_logger, _endpoints.Proxy, _endpoints.Admin));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 1, EventName = "GuardStarted", Level = LogLevel.Information,
        Message = "ConnLeakGuard started: proxy on {ProxyEndpoints}, admin on {AdminEndpoints}")]
    private static partial void LogStarted(ILogger logger, IReadOnlyList<IPEndPoint> proxyEndpoints, IReadOnlyList<IPEndPoint> adminEndpoints);
}
