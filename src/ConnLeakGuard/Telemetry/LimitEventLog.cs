using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Logs every enforced limit with its reason, connection id and client address, at most
/// <see cref="EventsPerSecond"/> lines per second so that an attack cannot flood the log. Events over the
/// rate are counted and summarised in one line by <see cref="FlushSuppressed"/>.
/// </summary>
internal sealed partial class LimitEventLog : IDisposable
{
    /// <summary>Sustained rate of limit log lines; bursts up to twice this are allowed.</summary>
    public const int EventsPerSecond = 20;

    private readonly ILogger<LimitEventLog> _logger;
    private readonly TokenBucketRateLimiter _limiter;
    private long _suppressed;

    public LimitEventLog(ILogger<LimitEventLog> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);

        _logger = logger;
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = EventsPerSecond * 2,
            TokensPerPeriod = EventsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>Logs a connection closed or refused by <paramref name="reason"/>.</summary>
    public void ConnectionRejected(string reason, string connectionId, EndPoint? remote)
    {
        if (TryAcquire())
        {
            LogConnectionClosed(_logger, reason, connectionId, remote);
        }
    }

    /// <summary>Logs a request rejected by <paramref name="reason"/> with <paramref name="status"/>.</summary>
    public void RequestRejected(string reason, int status, string connectionId, EndPoint? remote)
    {
        if (TryAcquire())
        {
            LogRequestRejected(_logger, reason, status, connectionId, remote);
        }
    }

    /// <summary>Logs a limit enforced where Kestrel does not expose the connection (header limits, timeouts).</summary>
    public void KestrelLimit(string reason, int? status, int localPort)
    {
        if (TryAcquire())
        {
            LogKestrelLimit(_logger, reason, status, localPort);
        }
    }

    /// <summary>Writes one summary line for the events dropped since the last call, if any.</summary>
    public void FlushSuppressed()
    {
        var suppressed = Interlocked.Exchange(ref _suppressed, 0);
        if (suppressed > 0)
        {
            LogSuppressed(_logger, suppressed);
        }
    }

    /// <summary>Logs a deadline sweep that failed; the sweeper logs only the first of a run of failures.</summary>
    public void SweepFailed(Exception exception) => LogSweepFailed(_logger, exception);

    /// <inheritdoc />
    public void Dispose() => _limiter.Dispose();

    private bool TryAcquire()
    {
        using var lease = _limiter.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        return false;
    }

    [LoggerMessage(EventId = 2001, EventName = "ConnectionClosedByLimit", Level = LogLevel.Information,
        Message = "Connection closed by limit {Reason}: connection {ConnectionId} from {RemoteAddress}")]
    private static partial void LogConnectionClosed(ILogger logger, string reason, string connectionId, EndPoint? remoteAddress);

    [LoggerMessage(EventId = 2002, EventName = "RequestRejectedByLimit", Level = LogLevel.Information,
        Message = "Request rejected by limit {Reason} with status {StatusCode}: connection {ConnectionId} from {RemoteAddress}")]
    private static partial void LogRequestRejected(ILogger logger, string reason, int statusCode, string connectionId, EndPoint? remoteAddress);

    [LoggerMessage(EventId = 2003, EventName = "KestrelLimitEnforced", Level = LogLevel.Information,
        Message = "Connection closed by limit {Reason} (status {StatusCode}) on port {LocalPort}")]
    private static partial void LogKestrelLimit(ILogger logger, string reason, int? statusCode, int localPort);

    [LoggerMessage(EventId = 2005, EventName = "DeadlineSweepFailed", Level = LogLevel.Error,
        Message = "Deadline sweep of client connections failed; deadlines are checked again at the next sweep")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2004, EventName = "LimitEventsSuppressed", Level = LogLevel.Warning,
        Message = "{Count} further limit events were not logged because of the log rate limit; the counters include them")]
    private static partial void LogSuppressed(ILogger logger, long count);
}
