using System.Diagnostics.Metrics;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Translates the limits that Kestrel enforces by itself (header limits, header and keep-alive timeouts,
/// data rates, the global connection cap) into the guard's close and reject counters and log lines.
/// </summary>
/// <remarks>
/// Kestrel reports why it closed a connection only as the <c>error.type</c> tag of
/// <c>kestrel.connection.duration</c> (ASP.NET Core 9 and later), so the bridge listens to that
/// measurement in-process. Connections closed by the guard itself carry no Kestrel error type and are
/// counted where the guard closes them.
/// </remarks>
internal sealed class KestrelCloseReasonBridge : IDisposable
{
    private const string KestrelMeterName = "Microsoft.AspNetCore.Server.Kestrel";

    // Kestrel error.type → (guard reason, status sent to the client or null when closed without a response).
    private static readonly Dictionary<string, (string Reason, int? Status)> s_reasons = new(StringComparer.Ordinal)
    {
        ["request_headers_timeout"] = (CloseReasons.RequestHeadersTimeout, 408),
        ["keep_alive_timeout"] = (CloseReasons.KeepAliveTimeout, null),
        ["min_request_body_data_rate"] = (CloseReasons.MinRequestBodyDataRate, 408),
        ["min_response_data_rate"] = (CloseReasons.MinResponseDataRate, null),
        ["max_request_body_size_exceeded"] = (CloseReasons.MaxRequestBodySize, 413),
        ["max_request_headers_total_size_exceeded"] = (CloseReasons.MaxRequestHeadersTotalSize, 431),
        ["max_request_header_count_exceeded"] = (CloseReasons.MaxRequestHeaderCount, 431),
        ["invalid_request_line"] = (CloseReasons.MaxRequestLineSize, 414),
        ["stream_reset_limit_exceeded"] = (CloseReasons.Http2StreamResetLimit, null),
        ["app_shutdown_timeout"] = (CloseReasons.Shutdown, null),
    };

    private readonly MeterListener _listener = new();
    private readonly GuardMetrics _metrics;
    private readonly LimitEventLog _limitLog;

    public KestrelCloseReasonBridge(GuardMetrics metrics, LimitEventLog limitLog, IMeterFactory meterFactory)
    {
        _metrics = metrics;
        _limitLog = limitLog;

        // Kestrel creates its meter through the host's meter factory; matching the scope keeps a second host
        // in the same process (as in tests) from being counted here.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == KestrelMeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory)
                && instrument.Name is "kestrel.connection.duration" or "kestrel.rejected_connections")
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (instrument, _, tags, state) => ((KestrelCloseReasonBridge)state!).OnConnectionEnded(tags));
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) => ((KestrelCloseReasonBridge)state!).OnConnectionRejected(value, tags));
        _listener.Start();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void OnConnectionEnded(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? errorType = null;
        var port = 0;
        foreach (var tag in tags)
        {
            if (tag.Key == "error.type")
            {
                errorType = tag.Value as string;
            }
            else if (tag.Key == "server.port" && tag.Value is int value)
            {
                port = value;
            }
        }

        if (errorType is null || !s_reasons.TryGetValue(errorType, out var mapped))
        {
            return;
        }

        _metrics.ConnectionClosed(mapped.Reason);
        if (mapped.Status is { } status)
        {
            _metrics.RequestRejected(mapped.Reason, status);
        }

        _limitLog.KestrelLimit(mapped.Reason, mapped.Status, port);
    }

    private void OnConnectionRejected(long count, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var port = 0;
        foreach (var tag in tags)
        {
            if (tag.Key == "server.port" && tag.Value is int value)
            {
                port = value;
            }
        }

        for (var i = 0; i < count; i++)
        {
            _metrics.ConnectionClosed(CloseReasons.MaxConcurrentConnections);
            _limitLog.KestrelLimit(CloseReasons.MaxConcurrentConnections, null, port);
        }
    }
}
