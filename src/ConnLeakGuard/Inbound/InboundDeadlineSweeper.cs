using ConnLeakGuard.Configuration;
using ConnLeakGuard.Overload;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Enforces the inbound limits that Kestrel has no setting for, by sweeping the open connections every
/// <see cref="Period"/>: the request body and response deadlines, the minimum response rate of a reader
/// that stalls, the maximum connection age with its grace period, and the first-request deadline of a
/// connection that never sends a byte.
/// </summary>
/// <remarks>
/// One sweep over all connections replaces a timer per request, the same trade Kestrel makes with its
/// one-second heartbeat. A deadline therefore fires up to one period late.
/// </remarks>
internal sealed class InboundDeadlineSweeper : BackgroundService
{
    /// <summary>Sweep interval: the lateness bound of every deadline enforced here.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    // Suppressed limit log lines are summarised every this many sweeps (10 s).
    private const int SuppressedSummaryEvery = 40;

    private readonly InboundConnectionRegistry _registry;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly GuardMetrics _metrics;
    private readonly LimitEventLog _limitLog;
    private readonly TimeProvider _time;
    private readonly OverloadState _overloadState;
    private readonly InboundLoadShedder _overload;

    public InboundDeadlineSweeper(
        InboundConnectionRegistry registry,
        IOptionsMonitor<GuardOptions> options,
        GuardMetrics metrics,
        LimitEventLog limitLog,
        TimeProvider time,
        OverloadState overloadState,
        InboundLoadShedder overload)
    {
        _registry = registry;
        _options = options;
        _metrics = metrics;
        _limitLog = limitLog;
        _time = time;
        _overloadState = overloadState;
        _overload = overload;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, _time);
        var sweeps = 0;
        var failing = false;

        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // A failed sweep (an allocation failure under a heap limit, for one) must not stop the host, which
            // is what an exception leaving a background service does. The first of a run of failures is logged.
            try
            {
                Sweep();
                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (!failing)
                {
                    _limitLog.SweepFailed(ex);
                }

                failing = true;
            }

            if (++sweeps % SuppressedSummaryEvery == 0)
            {
                _limitLog.FlushSuppressed();
            }
        }
    }

    /// <summary>Checks every open connection once.</summary>
    internal void Sweep()
    {
        var limits = _options.CurrentValue.Inbound;
        var now = _time.GetTimestamp();
        // The headers timeout is scaled down from overload level Elevated on, as Kestrel's own is.
        var headersTimeout = _overloadState.ScaleTimeout(limits.RequestHeadersTimeout);
        var silentDeadlineTicks = ToTicks(headersTimeout + (2 * KestrelLimitsSetup.KestrelHeartbeat));
        var responseGraceTicks = ToTicks(limits.MinResponseDataRateGracePeriod);

        foreach (var connection in _registry.Snapshot())
        {
            CheckConnectionAge(connection, limits, now);

            // Kestrel applies the keep-alive timeout until the first byte arrives. A connection that sends
            // nothing would otherwise hold its socket for the keep-alive timeout instead of the headers timeout.
            // The check waits two Kestrel heartbeats longer, so a connection that did send part of its
            // headers gets Kestrel's 408 first, even when Kestrel's heartbeat runs late under load.
            if (limits.Protocols == ListenerProtocols.Http1 && connection.RequestCount == 0
                && now - connection.OpenedTimestamp > silentDeadlineTicks && connection.TryMarkAborted())
            {
                _metrics.ConnectionClosed(CloseReasons.RequestHeadersTimeout);
                _limitLog.ConnectionRejected(CloseReasons.RequestHeadersTimeout, connection.ConnectionId, connection.RemoteEndPoint);
                connection.Abort(CloseReasons.RequestHeadersTimeout);
                continue;
            }

            // From overload level Elevated on, idle keep-alive connections are closed and connections stuck
            // in their first request's headers are aborted (see InboundLoadShedder).
            if (_overload.ShedConnection(connection, limits, now))
            {
                continue;
            }

            foreach (var request in connection.GetActiveRequests())
            {
                CheckRequestDeadlines(request, now);
                if (request.Context is { } context)
                {
                    CheckResponseProgress(request, context, now, responseGraceTicks);
                }
            }
        }
    }

    private void CheckConnectionAge(InboundConnection connection, InboundOptions limits, long now)
    {
        if (connection.CloseRequested)
        {
            if (now > connection.HardCloseDeadline && connection.TryMarkAborted())
            {
                connection.Abort("the grace period after a close request expired");
            }

            return;
        }

        if (now > connection.MaxAgeDeadline
            && connection.TryRequestClose(now + ToTicks(limits.MaxConnectionAgeGracePeriod)))
        {
            _metrics.ConnectionClosed(CloseReasons.MaxConnectionAge);
            _limitLog.ConnectionRejected(CloseReasons.MaxConnectionAge, connection.ConnectionId, connection.RemoteEndPoint);
        }
    }

    private void CheckRequestDeadlines(InboundRequest request, long now)
    {
        var context = request.Context;
        if (context is null)
        {
            return;
        }

        if (!request.BodyComplete && now > request.BodyDeadline && request.TryMarkBodyTimeout())
        {
            if (context.Response.HasStarted)
            {
                AbortStarted(request, CloseReasons.RequestBodyTimeout);
            }
            else
            {
                // Failing the pending body read makes the forwarder stop and cancel the upstream request;
                // the request middleware then answers 408.
                request.BodyReader?.CancelPendingRead();
                request.UpstreamCancellation?.Cancel();
            }

            return;
        }

        if (now > request.ResponseDeadline && request.TryMarkResponseTimeout())
        {
            if (context.Response.HasStarted || request.UpstreamCancellation is not { } upstream)
            {
                AbortStarted(request, CloseReasons.ResponseTimeout);
            }
            else
            {
                upstream.Cancel();
            }
        }
    }

    // Cuts a reader that has let a response write wait for a whole grace period while accepting fewer bytes
    // than the minimum rate allows; restarts the measurement window whenever no write is waiting.
    private void CheckResponseProgress(InboundRequest request, HttpContext context, long now, long graceTicks)
    {
        if (request.MinResponseDataRate is not { } rate || !context.Response.HasStarted)
        {
            return;
        }

        var written = Interlocked.Read(ref request.ResponseBytesWritten);
        if (Volatile.Read(ref request.WritePendingSince) == 0)
        {
            request.RateWindowStart = now;
            request.RateWindowBytes = written;
            return;
        }

        var elapsed = now - request.RateWindowStart;
        if (elapsed < graceTicks)
        {
            return;
        }

        var required = rate * elapsed / _time.TimestampFrequency;
        if (written - request.RateWindowBytes < required && request.TryMarkSlowReader())
        {
            AbortStarted(request, CloseReasons.MinResponseDataRate);
            return;
        }

        request.RateWindowStart = now;
        request.RateWindowBytes = written;
    }

    private void AbortStarted(InboundRequest request, string reason)
    {
        // Once the status line is sent, only an abort tells the client that the response is incomplete.
        request.Aborted = true;
        _metrics.ConnectionClosed(reason);
        _limitLog.ConnectionRejected(reason, request.Connection.ConnectionId, request.Connection.RemoteEndPoint);
        request.Context?.Abort();
    }

    private long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * _time.TimestampFrequency);
}
