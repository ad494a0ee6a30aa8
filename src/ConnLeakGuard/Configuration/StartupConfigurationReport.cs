using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Logs, at start-up, every limit that the configuration switches off, and subscribes the options monitor
/// to configuration file failures so they are logged and counted.
/// </summary>
internal sealed partial class StartupConfigurationReport : IHostedService
{
    private readonly GuardOptionsMonitor _monitor;
    private readonly ILogger<StartupConfigurationReport> _logger;

    public StartupConfigurationReport(GuardOptionsMonitor monitor, ILogger<StartupConfigurationReport> logger)
    {
        _monitor = monitor;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var key in _monitor.CurrentValue.DisabledLimits)
        {
            LogLimitDisabled(_logger, key);
        }

        ConfigFileEvents.Failed += _monitor.OnConfigFileFailed;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        ConfigFileEvents.Failed -= _monitor.OnConfigFileFailed;
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 1001, EventName = "LimitDisabled", Level = LogLevel.Warning,
        Message = "Limit {Key} is switched off: connections are not bounded by it")]
    private static partial void LogLimitDisabled(ILogger logger, string key);
}
