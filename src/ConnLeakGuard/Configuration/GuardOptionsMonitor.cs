using ConnLeakGuard.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Holds the guard's current, always valid options. On a configuration change it loads the new values;
/// an invalid change is rejected with one log line per problem and the previous options stay in force.
/// </summary>
/// <remarks>
/// The framework's monitor throws from <c>CurrentValue</c> after an invalid reload, which would fail every
/// request; this one never does.
/// </remarks>
internal sealed partial class GuardOptionsMonitor : IOptionsMonitor<GuardOptions>, IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<GuardOptionsMonitor> _logger;
    private readonly GuardMetrics _metrics;
    private readonly IDisposable _subscription;
    private event Action<GuardOptions, string?>? Changed;
    private volatile GuardOptions _current;

    public GuardOptionsMonitor(IConfiguration configuration, GuardOptions initial, ILogger<GuardOptionsMonitor> logger, GuardMetrics metrics)
    {
        _configuration = configuration;
        _current = initial;
        _logger = logger;
        _metrics = metrics;
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, () => Reload());
    }

    /// <inheritdoc />
    public GuardOptions CurrentValue => _current;

    /// <inheritdoc />
    public GuardOptions Get(string? name) => _current;

    /// <inheritdoc />
    public IDisposable OnChange(Action<GuardOptions, string?> listener)
    {
        Changed += listener;
        return new Subscription(() => Changed -= listener);
    }

    /// <inheritdoc />
    public void Dispose() => _subscription.Dispose();

    /// <summary>Loads the configuration again and applies it when valid; returns whether it was applied.</summary>
    internal bool Reload()
    {
        var next = GuardOptionsLoader.Load(_configuration, out var problems);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                LogReloadRejected(_logger, problem.Key, problem.Value, problem.Message);
            }

            _metrics.ConfigReloaded(success: false);
            return false;
        }

        var previous = _current;
        WarnRestartRequired("ConnLeakGuard:Inbound:Urls", previous.Inbound.Urls, next.Inbound.Urls);
        WarnRestartRequired("ConnLeakGuard:Inbound:Protocols", previous.Inbound.Protocols.ToString(), next.Inbound.Protocols.ToString());
        WarnRestartRequired("ConnLeakGuard:Admin:Urls", previous.Admin.Urls, next.Admin.Urls);
        WarnRestartRequired("ConnLeakGuard:Shutdown:DrainTimeout", DurationParser.Format(previous.Shutdown.DrainTimeout), DurationParser.Format(next.Shutdown.DrainTimeout));
        WarnRestartRequired("ConnLeakGuard:LogFormat", previous.LogFormat.ToString(), next.LogFormat.ToString());
        WarnRestartRequired("ConnLeakGuard:LogQueueCapacity", previous.LogQueueCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture), next.LogQueueCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WarnRestartRequired("ConnLeakGuard:Inbound:ListenBacklog", previous.Inbound.ListenBacklog.ToString(System.Globalization.CultureInfo.InvariantCulture), next.Inbound.ListenBacklog.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WarnRestartRequired("ConnLeakGuard:Inbound:SocketSendBufferSize", GuardOptionsBinder.FormatValue(previous.Inbound.SocketSendBufferSize), GuardOptionsBinder.FormatValue(next.Inbound.SocketSendBufferSize));

        _current = next;
        _metrics.ConfigReloaded(success: true);
        Changed?.Invoke(next, Options.DefaultName);

        // Logged after the subscribers (Kestrel's limits, the outbound pools) have the new values, so the
        // line means the reload is in force.
        LogReloadApplied(_logger);
        return true;
    }

    /// <summary>Logs and counts a configuration file that changed but could not be parsed.</summary>
    internal void OnConfigFileFailed(string path, string error)
    {
        LogFileRejected(_logger, path, error);
        _metrics.ConfigReloaded(success: false);
    }

    private void WarnRestartRequired(string key, string before, string after)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal))
        {
            LogRestartRequired(_logger, key, before, after);
        }
    }

    [LoggerMessage(EventId = 1101, EventName = "ConfigurationReloadRejected", Level = LogLevel.Error,
        Message = "Configuration reload rejected, the previous configuration stays in force: {Key} = '{Value}': {Problem}")]
    private static partial void LogReloadRejected(ILogger logger, string key, string? value, string problem);

    [LoggerMessage(EventId = 1104, EventName = "ConfigurationFileRejected", Level = LogLevel.Error,
        Message = "Configuration file {Path} rejected, the previous configuration stays in force: {Error}")]
    private static partial void LogFileRejected(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 1102, EventName = "ConfigurationReloaded", Level = LogLevel.Information,
        Message = "Configuration reloaded: new requests and connections use the new limits")]
    private static partial void LogReloadApplied(ILogger logger);

    [LoggerMessage(EventId = 1103, EventName = "ConfigurationRestartRequired", Level = LogLevel.Warning,
        Message = "Restart required: {Key} changed from '{Before}' to '{After}', which applies only at start-up")]
    private static partial void LogRestartRequired(ILogger logger, string key, string before, string after);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
