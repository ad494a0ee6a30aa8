using ConnLeakGuard.Outbound;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Overload;

/// <summary>
/// Closes idle pooled upstream connections under overload: at Elevated those idle longer than the scaled
/// pooled idle timeout, from High on those idle for a whole sampling interval. SocketsHttpHandler reads
/// <c>PooledConnectionIdleTimeout</c> only when it builds a pool, so the guard closes the connections itself;
/// the handler finds a closed connection unusable when it next takes it from the pool and opens a new one.
/// </summary>
/// <remarks>
/// Idle means that no client request is in flight on the connection (<see cref="OutboundConnectionStream.IsActive"/>).
/// From High on, a connection used within the last sampling interval is kept: closing connections that
/// are reused all the time would only make the guard open new ones.
/// NOTE: the pooled idle timeout scaled here is the guard-wide one. A cluster that overrides it keeps the
/// guard-wide value under overload, because the registry does not expose a cluster's resolved options.
/// </remarks>
internal sealed partial class OutboundIdleCloser
{
    private readonly OutboundPoolRegistry _registry;
    private readonly OverloadMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<OutboundIdleCloser> _logger;

    public OutboundIdleCloser(OutboundPoolRegistry registry, OverloadMetrics metrics, TimeProvider time, ILogger<OutboundIdleCloser> logger)
    {
        _registry = registry;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>Closes the idle upstream connections that <paramref name="level"/> sheds; returns how many.</summary>
    /// <param name="level">The overload level in force.</param>
    /// <param name="scaledIdleTimeout">The pooled idle timeout multiplied by the timeout scale, for Elevated.</param>
    /// <param name="sampleInterval">The minimum idle time from High on.</param>
    public int CloseIdle(OverloadLevel level, TimeSpan scaledIdleTimeout, TimeSpan sampleInterval)
    {
        if (level < OverloadLevel.Elevated)
        {
            return 0;
        }

        var now = _time.GetTimestamp();
        var threshold = level >= OverloadLevel.High ? sampleInterval : scaledIdleTimeout;
        var thresholdTicks = (long)(threshold.TotalSeconds * _time.TimestampFrequency);
        var closed = 0;

        foreach (var connection in _registry.Connections)
        {
            if (connection.IsClosing || connection.IsActive(out var idleSince) || now - idleSince < thresholdTicks)
            {
                continue;
            }

            // FIN, not RST, because this is an orderly close of an idle keep-alive connection.
            if (connection.Close(abort: false))
            {
                closed++;
            }
        }

        if (closed > 0)
        {
            _metrics.Shed(level >= OverloadLevel.High ? ShedActions.OutboundIdleClosed : ShedActions.OutboundIdleExpired, closed);
            var levelName = OverloadLabels.Of(level);
            LogClosed(_logger, closed, levelName, threshold);
        }

        return closed;
    }

    [LoggerMessage(EventId = 6010, EventName = "OverloadOutboundIdleClosed", Level = LogLevel.Information,
        Message = "Closed {Count} idle upstream connections at overload level {Level}: idle for {IdleThreshold} or longer")]
    private static partial void LogClosed(ILogger logger, int count, string level, TimeSpan idleThreshold);
}
