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
/// </remarks>
internal sealed partial class ProxyRequestLogMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ForwarderMetrics _metrics;
    private readonly ILogger<ProxyRequestLogMiddleware> _logger;
    private readonly TimeProvider _time;

    public ProxyRequestLogMiddleware(RequestDelegate next, ForwarderMetrics metrics, ILogger<ProxyRequestLogMiddleware> logger, TimeProvider time)
    {
        _next = next;
        _metrics = metrics;
        _logger = logger;
        _time = time;
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
        var status = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
        var durationMs = _time.GetElapsedTime(start).TotalMilliseconds;
        var upstreamMs = ToMilliseconds(telemetry.UpstreamSeconds);
        var queueMs = ToMilliseconds(telemetry.QueueSeconds);
        long? requestBytes = telemetry.RequestBytes >= 0 ? telemetry.RequestBytes
            : context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false } ? 0 : null;
        long? responseBytes = telemetry.ResponseBytes < 0 ? null : telemetry.ResponseBytes;
        var connectionId = context.Features.Get<IHttpConnectionFeature>()?.ConnectionId;
        var traceId = Activity.Current?.TraceId.ToHexString();

        LogRequestCompleted(
            _logger,
            context.Request.Method,
            proxy?.Route.Config.RouteId,
            cluster,
            destination,
            status,
            outcome,
            errorName,
            durationMs,
            upstreamMs,
            queueMs,
            requestBytes,
            responseBytes,
            context.Request.Protocol,
            connectionId,
            traceId);
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

    [LoggerMessage(EventId = 3001, EventName = "ProxyRequestCompleted", Level = LogLevel.Information,
        Message = "{Method} via route {RouteId} to {ClusterId}/{DestinationId}: {StatusCode} {Outcome} {ForwarderError} in {DurationMs:0.###} ms "
            + "(upstream {UpstreamMs:0.###} ms, queue {QueueMs:0.###} ms), {RequestBytes} bytes in, {ResponseBytes} bytes out, "
            + "{Protocol} connection {ConnectionId}, trace {TraceId}")]
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
