using System.IO.Pipelines;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Http;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Deadlines and progress of one in-flight request, read by <see cref="InboundDeadlineSweeper"/>.
/// An HTTP/1.1 connection reuses one instance for all its requests; HTTP/2 allocates one per stream.
/// </summary>
/// <remarks>
/// Fields are written by the request's own flow and read by the sweeper without locks. Deadlines are
/// <see cref="TimeProvider.GetTimestamp"/> values, with <see cref="long.MaxValue"/> meaning none.
/// </remarks>
internal sealed class InboundRequest
{
    private int _timeoutReason;
    private volatile InboundPhase _phase;
    private long _phaseTimestamp;
    private long _sequence;

    public InboundRequest(InboundConnection connection)
    {
        Connection = connection;
    }

    /// <summary>The connection carrying the request.</summary>
    public InboundConnection Connection { get; }

    /// <summary>The request; null between requests.</summary>
    public volatile HttpContext? Context;

    /// <summary>Byte counts and timings for the request's completion line; null outside the proxy pipeline.</summary>
    public ProxyRequestTelemetry? Telemetry;

    /// <summary>Timestamp by which the whole request body must have been read.</summary>
    public long BodyDeadline = long.MaxValue;

    /// <summary>Timestamp by which the whole response must have been written.</summary>
    public long ResponseDeadline = long.MaxValue;

    /// <summary>What the request is doing now. Setting it also records <see cref="PhaseTimestamp"/>.</summary>
    public InboundPhase Phase
    {
        get => _phase;
        set
        {
            // The timestamp is written first, so a reader that sees the new phase never pairs it with the
            // previous phase's start and overstates the time spent in it.
            Volatile.Write(ref _phaseTimestamp, Connection.Time.GetTimestamp());
            _phase = value;
        }
    }

    /// <summary>Timestamp at which <see cref="Phase"/> was last set.</summary>
    public long PhaseTimestamp => Volatile.Read(ref _phaseTimestamp);

    /// <summary>
    /// Number of requests this instance has carried, counting the current one. An HTTP/1.1 connection reuses
    /// its instance, so the outbound side compares this number to tell one forwarded request from the next.
    /// </summary>
    public long Sequence => Volatile.Read(ref _sequence);

    /// <summary>Set when the guard aborted the request; its close is already counted.</summary>
    public volatile bool Aborted;

    /// <summary>Set once the request body has been read to its end.</summary>
    public volatile bool BodyComplete;

    /// <summary>
    /// Cancels the upstream call when a deadline expires before the response starts; set by the outbound
    /// handler for the duration of the call.
    /// </summary>
    public volatile CancellationTokenSource? UpstreamCancellation;

    /// <summary>Bytes of the response accepted by the connection so far.</summary>
    public long ResponseBytesWritten;

    /// <summary>Timestamp at which the current blocked write started, or 0 when no write is waiting.</summary>
    public long WritePendingSince;

    /// <summary>Start of the window over which response progress is measured.</summary>
    public long RateWindowStart;

    /// <summary><see cref="ResponseBytesWritten"/> at <see cref="RateWindowStart"/>.</summary>
    public long RateWindowBytes;

    /// <summary>Minimum response rate for this request in bytes per second, or null when off.</summary>
    public long? MinResponseDataRate;

    /// <summary>Kestrel's own body reader, whose pending read is cancelled when the body deadline expires.</summary>
    public volatile PipeReader? BodyReader;

    /// <summary>The limit that timed the request out, or null.</summary>
    public string? TimeoutReason => _timeoutReason switch
    {
        1 => CloseReasons.RequestBodyTimeout,
        2 => CloseReasons.ResponseTimeout,
        3 => CloseReasons.MinResponseDataRate,
        _ => null,
    };

    /// <summary>Marks the request as timed out by the body deadline; returns false if already marked.</summary>
    public bool TryMarkBodyTimeout() => Interlocked.CompareExchange(ref _timeoutReason, 1, 0) == 0;

    /// <summary>Marks the request as timed out by the response deadline; returns false if already marked.</summary>
    public bool TryMarkResponseTimeout() => Interlocked.CompareExchange(ref _timeoutReason, 2, 0) == 0;

    /// <summary>Records that a response write has started.</summary>
    public void BeginWrite(long timestamp) => Volatile.Write(ref WritePendingSince, timestamp);

    /// <summary>Records that a response write of <paramref name="bytes"/> has been accepted.</summary>
    public void EndWrite(int bytes)
    {
        Volatile.Write(ref WritePendingSince, 0);
        Interlocked.Add(ref ResponseBytesWritten, bytes);
        Connection.CountResponseBytesWritten(bytes);
        Telemetry?.CountResponseBytes(bytes);
    }

    /// <summary>Marks the request as cut for a stalled reader; returns false if already marked.</summary>
    public bool TryMarkSlowReader() => Interlocked.CompareExchange(ref _timeoutReason, 3, 0) == 0;

    /// <summary>Prepares the instance for the next request on the same connection.</summary>
    public void Reset(HttpContext context, long bodyDeadline, long responseDeadline, long? minResponseDataRate, long now)
    {
        Telemetry = context.Features.Get<ProxyRequestTelemetry>();
        ResponseBytesWritten = 0;
        WritePendingSince = 0;
        RateWindowStart = now;
        RateWindowBytes = 0;
        MinResponseDataRate = minResponseDataRate;
        _timeoutReason = 0;
        Aborted = false;
        BodyComplete = bodyDeadline == long.MaxValue;
        BodyDeadline = bodyDeadline;
        ResponseDeadline = responseDeadline;
        UpstreamCancellation = null;
        BodyReader = null;
        Volatile.Write(ref _sequence, _sequence + 1);
        Context = context;
    }

    /// <summary>Clears the request once its response is complete.</summary>
    public void Clear()
    {
        Context = null;
        Telemetry = null;
        UpstreamCancellation = null;
        BodyReader = null;
        BodyDeadline = long.MaxValue;
        ResponseDeadline = long.MaxValue;
    }
}
