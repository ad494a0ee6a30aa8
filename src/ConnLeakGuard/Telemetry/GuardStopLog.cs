using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Logs when the guard begins to stop (the signal arrived, draining starts) and when it has stopped, with its
/// uptime, so the log records every exit of the process, not only its start.
/// </summary>
internal sealed partial class GuardStopLog : IHostedService
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<GuardStopLog> _logger;
    private readonly TimeProvider _time;
    private readonly long _started;
    private CancellationTokenRegistration _stopping;

    public GuardStopLog(IHostApplicationLifetime lifetime, ILogger<GuardStopLog> logger, TimeProvider time)
    {
        _lifetime = lifetime;
        _logger = logger;
        _time = time;
        _started = time.GetTimestamp();
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = _lifetime.ApplicationStopping.Register(() =>
        {
            var uptime = Uptime();
            LogStopping(_logger, uptime);
        });
        _lifetime.ApplicationStopped.Register(() =>
        {
            var uptime = Uptime();
            LogStopped(_logger, uptime);
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopped fires after the hosted services have stopped, so its registration stays.
        _stopping.Dispose();
        return Task.CompletedTask;
    }

    private double Uptime() => Math.Round(_time.GetElapsedTime(_started).TotalSeconds, 1);

    [LoggerMessage(EventId = 3010, EventName = "GuardStopping", Level = LogLevel.Information,
        Message = "ConnLeakGuard stopping after {UptimeSeconds} s")]
    private static partial void LogStopping(ILogger logger, double uptimeSeconds);

    [LoggerMessage(EventId = 3011, EventName = "GuardStopped", Level = LogLevel.Information,
        Message = "ConnLeakGuard stopped after {UptimeSeconds} s")]
    private static partial void LogStopped(ILogger logger, double uptimeSeconds);
}
