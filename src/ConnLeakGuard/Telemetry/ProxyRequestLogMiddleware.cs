using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Writes one completion line per request on the proxy listener and counts forwarded requests and forwarder
/// failures. It wraps the proxy endpoint, so the status it logs is the one the client received, including the
/// guard's own 408, 413 and 504.
/// </summary>
/// <remarks>
/// The line carries method, route, cluster, destination, status, durations, body sizes, connection id and trace
/// id. It never carries the path, the query string, a header or a body, because those can hold credentials.
/// The line is written by <see cref="CompletionLogWriter"/> when the guard's own JSON output is in use, and
/// through Serilog otherwise; <c>Serilog:MinimumLevel:Override</c> for this class switches it off in both cases.
/// </remarks>
internal sealed partial class ProxyRequestLogMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ForwarderMetrics _metrics;
    private readonly ILogger<ProxyRequestLogMiddleware> _logger;
    private readonly TimeProvider _time;
    private readonly CompletionLogWriter _writer;

    public ProxyRequestLogMiddleware(
        RequestDelegate next, ForwarderMetrics metrics, ILogger<ProxyRequestLogMiddleware> logger, TimeProvider time, CompletionLogWriter writer)
    {
        _next = next;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _writer = writer;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        var start = _time.GetTimestamp();
        var telemetry = new ProxyRequestTelemetry();
        context.Features.Set(telemetry);

        var failed = true;
        try
        {
            await _next(context);
            failed = false;
        }
        finally
        {
            Complete(context, telemetry, start, failed);
        }
    }

    private void Complete(HttpContext context, ProxyRequestTelemetry telemetry, long start, bool failed)
    {
        var proxy = context.Features.Get<IReverseProxyFeature>();
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        var cluster = proxy?.Cluster?.Config.ClusterId ?? proxy?.Route.Cluster?.ClusterId;
        var destination = proxy?.ProxiedDestination?.DestinationId;
        var forwarded = destination is not null || error != ForwarderError.None;

        var outcome = forwarded ? ForwarderOutcomes.GetOutcome(error) : ForwarderOutcomes.NotForwarded;
        var errorName = error == ForwarderError.None ? null : ForwarderOutcomes.GetErrorName(error);
        if (forwarded)
        {
            _metrics.RequestForwarded(cluster, outcome);
            if (errorName is not null)
            {
                _metrics.RequestFailed(cluster, errorName);
            }

            RecordStages(telemetry);
        }

        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        // An exception escaping the pipeline becomes a 500 after this middleware has returned.
        var activity = Activity.Current;
        var entry = new CompletionLogEntry
        {
            Timestamp = _time.GetUtcNow().UtcDateTime,
            Method = context.Request.Method,
            RouteId = proxy?.Route.Config.RouteId,
            ClusterId = cluster,
            DestinationId = destination,
            StatusCode = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode,
            Outcome = outcome,
            ForwarderError = errorName,
            DurationMs = _time.GetElapsedTime(start).TotalMilliseconds,
            UpstreamMs = ToMilliseconds(telemetry.UpstreamSeconds),
            QueueMs = ToMilliseconds(telemetry.QueueSeconds),
            RequestBytes = telemetry.RequestBytes >= 0 ? telemetry.RequestBytes
                : context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false } ? 0 : null,
            ResponseBytes = telemetry.ResponseBytes < 0 ? null : telemetry.ResponseBytes,
            Protocol = context.Request.Protocol,
            ConnectionId = context.Features.Get<IHttpConnectionFeature>()?.ConnectionId,
            RequestId = context.TraceIdentifier,
            TraceId = activity?.TraceId ?? default,
            SpanId = activity?.SpanId ?? default,
        };

        if (_writer.IsEnabled)
        {
            _writer.TryWrite(entry);
            return;
        }

        LogRequestCompleted(
            _logger,
            entry.Method,
            entry.RouteId,
            entry.ClusterId,
            entry.DestinationId,
            entry.StatusCode,
            entry.Outcome,
            entry.ForwarderError,
            entry.DurationMs,
            entry.UpstreamMs,
            entry.QueueMs,
            entry.RequestBytes,
            entry.ResponseBytes,
            entry.Protocol,
            entry.ConnectionId,
            entry.TraceId == default ? null : entry.TraceId.ToHexString());
    }

    // The send stage is HttpClient's own measurement up to the response headers. The body stages run from
    // the first read of the request body to its end, and from the start of the response to the end of the
    // request.
    private void RecordStages(ProxyRequestTelemetry telemetry)
    {
        if (!double.IsNaN(telemetry.UpstreamSeconds))
        {
            _metrics.StageCompleted(ForwarderMetrics.StageSend, TimeSpan.FromSeconds(telemetry.UpstreamSeconds));
        }

        if (telemetry.RequestContentStart != 0 && telemetry.RequestContentEnd != 0)
        {
            _metrics.StageCompleted(ForwarderMetrics.StageRequestContent, _time.GetElapsedTime(telemetry.RequestContentStart, telemetry.RequestContentEnd));
        }

        if (telemetry.ResponseContentStart != 0)
        {
            _metrics.StageCompleted(ForwarderMetrics.StageResponseContent, _time.GetElapsedTime(telemetry.ResponseContentStart));
        }
    }

    private static double? ToMilliseconds(double seconds) => double.IsNaN(seconds) ? null : seconds * 1000;

    // Used when the guard's own JSON output is not in use (text format, or Serilog:WriteTo configured).
    [LoggerMessage(EventId = CompletionLogWriter.EventId, EventName = CompletionLogWriter.EventName, Level = LogLevel.Information,
        Message = CompletionLogWriter.MessageTemplate)]
    private static partial void LogRequestCompleted(
        ILogger logger,
        string method,
        string? routeId,
        string? clusterId,
        string? destinationId,
        int statusCode,
        string outcome,
        string? forwarderError,
        double durationMs,
        double? upstreamMs,
        double? queueMs,
        long? requestBytes,
        long? responseBytes,
        string protocol,
        string? connectionId,
        string? traceId);
}
