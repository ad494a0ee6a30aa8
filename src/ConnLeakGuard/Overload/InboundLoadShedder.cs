using System.Globalization;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Overload;

/// <summary>
/// The overload actions on client connections, called from three inbound hooks. The connection middleware
/// rejects new connections at Critical. The request middleware closes connections after the response from
/// High on, and sends 503 for a connection's first request at Critical. The deadline sweeper closes idle
/// keep-alive connections and aborts connections stuck in their first request's headers.
/// </summary>
/// <remarks>
/// Closes of connections that have served a request are graceful (<see cref="InboundConnection.TryRequestClose"/>):
/// HTTP/1.1 closes between requests and HTTP/2 sends GOAWAY. A client that sends a request at the moment an
/// idle connection closes gets the close instead of a response. Every keep-alive timeout has this race, and
/// clients retry such requests on a new connection when they are idempotent.
/// </remarks>
internal sealed class InboundLoadShedder
{
    /// <summary>
    /// Time a new connection may take to send its first request's headers at level Critical. A client on a
    /// working link sends a request line and headers within milliseconds of connecting.
    /// </summary>
    public static readonly TimeSpan FirstHeadersGraceAtCritical = TimeSpan.FromSeconds(1);

    // Time a connection whose request got a 503 response has to deliver it before it is closed hard.
    private static readonly TimeSpan s_rejectedConnectionLinger = TimeSpan.FromSeconds(1);

    private readonly OverloadState _state;
    private readonly OverloadMetrics _overloadMetrics;
    private readonly GuardMetrics _metrics;
    private readonly LimitEventLog _limitLog;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly TimeProvider _time;

    public InboundLoadShedder(
        OverloadState state,
        OverloadMetrics overloadMetrics,
        GuardMetrics metrics,
        LimitEventLog limitLog,
        IOptionsMonitor<GuardOptions> options,
        TimeProvider time)
    {
        _state = state;
        _overloadMetrics = overloadMetrics;
        _metrics = metrics;
        _limitLog = limitLog;
        _options = options;
        _time = time;
    }

    /// <summary>
    /// Returns true when the level is Critical, so that the caller closes the new connection at once, before
    /// anything is read from it. Counts and logs the rejection.
    /// </summary>
    public bool RejectConnection(ConnectionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        if (_state.Level < OverloadLevel.Critical)
        {
            return false;
        }

        _metrics.ConnectionClosed(CloseReasons.Overload);
        _overloadMetrics.Shed(ShedActions.InboundConnectionRejected);
        _limitLog.ConnectionRejected(CloseReasons.Overload, context.ConnectionId, context.RemoteEndPoint);
        return true;
    }

    /// <summary>
    /// Applies the level to a request that has just started. From High on, the connection closes after the
    /// response. At Critical, the first request of a connection gets a 503 response and the method returns
    /// true, so that the caller stops processing it.
    /// </summary>
    public bool RejectRequest(HttpContext context, InboundConnection connection, long requestNumber, long hardCloseDeadline)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(connection);

        var level = _state.Level;
        if (level < OverloadLevel.High)
        {
            return false;
        }

        // Requests on connections that were already serving keep being served. A connection accepted just
        // before the level became Critical is new work, so its first request is rejected like a new connection.
        var reject = level == OverloadLevel.Critical && requestNumber == 1;

        // Kestrel writes "Connection: close" on an HTTP/1.1 response once a close has been requested. A
        // rejected request's connection is closed hard soon after, so that Kestrel does not keep reading
        // an unread body.
        var deadline = reject ? _time.GetTimestamp() + (long)(s_rejectedConnectionLinger.TotalSeconds * _time.TimestampFrequency) : hardCloseDeadline;
        if (connection.TryRequestClose(deadline))
        {
            _metrics.ConnectionClosed(CloseReasons.Overload);
            _overloadMetrics.Shed(ShedActions.InboundCloseAfterResponse);
        }

        if (!reject)
        {
            return false;
        }

        var retryAfter = Math.Max(1, (int)Math.Ceiling(_options.CurrentValue.Overload.RecoveryHoldTime.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        _metrics.RequestRejected(CloseReasons.Overload, StatusCodes.Status503ServiceUnavailable);
        _overloadMetrics.Shed(ShedActions.InboundRequestRejected);
        _limitLog.RequestRejected(CloseReasons.Overload, StatusCodes.Status503ServiceUnavailable, connection.ConnectionId, connection.RemoteEndPoint);
        return true;
    }

    /// <summary>
    /// Closes <paramref name="connection"/> when the level sheds it; returns whether it did. From Elevated
    /// on, an idle keep-alive connection (at least one request served, none in flight) is closed gracefully:
    /// at Elevated when idle longer than the scaled keep-alive timeout, from High on whatever its idle time.
    /// A connection still sending its first request's headers, which Kestrel buffers in memory, is aborted
    /// after the scaled headers timeout, and at Critical after <see cref="FirstHeadersGraceAtCritical"/>.
    /// </summary>
    /// <remarks>
    /// Kestrel reads its keep-alive and headers timeouts when a connection starts, so connections opened
    /// before the level rose keep the configured timeouts. This check applies the scaled ones to them.
    /// </remarks>
    public bool ShedConnection(InboundConnection connection, InboundOptions limits, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(limits);

        var level = _state.Level;
        if (level < OverloadLevel.Elevated || connection.CloseRequested)
        {
            return false;
        }

        if (connection.RequestCount == 0)
        {
            return AbortUnfinishedHeaders(connection, level, limits, now);
        }

        if (connection.GetActiveRequests().Any())
        {
            return false;
        }

        var idleTicks = now - connection.LastActivityTimestamp;
        var action = ShedActions.InboundIdleClosed;
        if (level == OverloadLevel.Elevated)
        {
            var scaledKeepAlive = limits.KeepAliveTimeout * _state.TimeoutScale;
            if (idleTicks < scaledKeepAlive.TotalSeconds * _time.TimestampFrequency)
            {
                return false;
            }

            action = ShedActions.InboundIdleExpired;
        }

        var graceTicks = (long)(limits.MaxConnectionAgeGracePeriod.TotalSeconds * _time.TimestampFrequency);
        if (!connection.TryRequestClose(now + graceTicks))
        {
            return false;
        }

        _metrics.ConnectionClosed(CloseReasons.Overload);
        _overloadMetrics.Shed(action);
        _limitLog.ConnectionRejected(CloseReasons.Overload, connection.ConnectionId, connection.RemoteEndPoint);
        return true;
    }

    // No request has started on the connection, so nothing in flight is lost and there is no response to
    // end with: the connection is aborted, as the sweeper aborts a connection that sends nothing.
    private bool AbortUnfinishedHeaders(InboundConnection connection, OverloadLevel level, InboundOptions limits, long now)
    {
        // Kestrel reads its headers timeout when a connection starts, so the scaled one covers only the
        // connections opened since the scale changed, and this check applies it to the older ones. For the
        // newer ones it waits two heartbeats longer, as the sweeper's check for silent connections does, so
        // that Kestrel's own 408 comes first even when its heartbeat runs late under load.
        var kestrelHasScaledTimeout = connection.OpenedTimestamp >= _state.ScaleChangedTimestamp;
        var allowed = level == OverloadLevel.Critical
            ? FirstHeadersGraceAtCritical
            : limits.RequestHeadersTimeout * _state.TimeoutScale;
        if (level != OverloadLevel.Critical && kestrelHasScaledTimeout)
        {
            allowed += 2 * KestrelLimitsSetup.KestrelHeartbeat;
        }

        var openTicks = now - connection.OpenedTimestamp;
        if (openTicks < allowed.TotalSeconds * _time.TimestampFrequency || !connection.TryMarkAborted())
        {
            return false;
        }

        _metrics.ConnectionClosed(CloseReasons.Overload);
        _overloadMetrics.Shed(level == OverloadLevel.Critical ? ShedActions.InboundHeadersAborted : ShedActions.InboundHeadersExpired);
        _limitLog.ConnectionRejected(CloseReasons.Overload, connection.ConnectionId, connection.RemoteEndPoint);
        connection.Abort(CloseReasons.Overload);
        return true;
    }
}
