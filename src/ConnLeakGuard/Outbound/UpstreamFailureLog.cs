using ConnLeakGuard.Telemetry;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Outbound;

/// <summary>Logs each upstream failure once, with the cluster, destination and client connection id, rate-limited.</summary>
internal sealed partial class UpstreamFailureLog : IDisposable
{
    private readonly ILogger<UpstreamFailureLog> _logger;
    private readonly LogRateLimiter _limiter = new(LimitEventLog.EventsPerSecond);

    public UpstreamFailureLog(ILogger<UpstreamFailureLog> logger)
    {
        _logger = logger;
    }

    /// <summary>Logs a failed upstream request answered with <paramref name="status"/>.</summary>
    public void Failed(string kind, int status, string cluster, string destination, string connectionId, Exception? exception)
    {
        if (_limiter.TryAcquire())
        {
            LogFailed(_logger, kind, status, cluster, destination, connectionId, exception?.GetBaseException().Message);
        }
    }

    /// <summary>Writes one summary line for the failures dropped since the last call, if any.</summary>
    public void FlushSuppressed()
    {
        var suppressed = _limiter.TakeSuppressed();
        if (suppressed > 0)
        {
            LogSuppressed(_logger, suppressed);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _limiter.Dispose();

    [LoggerMessage(EventId = 4001, EventName = "UpstreamRequestFailed", Level = LogLevel.Warning,
        Message = "Upstream request failed ({Kind}), answered {StatusCode}: cluster {Cluster}, destination {Destination}, connection {ConnectionId}: {Error}")]
    private static partial void LogFailed(ILogger logger, string kind, int statusCode, string cluster, string destination, string connectionId, string? error);

    [LoggerMessage(EventId = 4002, EventName = "UpstreamFailuresSuppressed", Level = LogLevel.Warning,
        Message = "{Count} further upstream failures were not logged because of the log rate limit; the counters include them")]
    private static partial void LogSuppressed(ILogger logger, long count);
}
