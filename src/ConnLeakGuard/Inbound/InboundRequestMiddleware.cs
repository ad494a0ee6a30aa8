using System.Runtime.CompilerServices;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Overload;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Per-request inbound limits, first in the proxy pipeline: the per-header size cap, the announced body
/// size, maximum requests per connection, the request body and response deadlines with their per-route
/// relaxations, and the translation of a guard timeout into 408 or 504.
/// </summary>
internal sealed class InboundRequestMiddleware
{
    // Time a rejected HTTP/1.x connection gets to deliver its error response before it is closed hard.
    private static readonly TimeSpan RejectedConnectionLinger = TimeSpan.FromSeconds(1);

    private static readonly object s_bodyStreamKey = new();
    private static readonly object s_responseStreamKey = new();

    private readonly RequestDelegate _next;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly GuardMetrics _metrics;
    private readonly LimitEventLog _limitLog;
    private readonly TimeProvider _time;
    private readonly InboundLoadShedder _overload;
    private readonly ConditionalWeakTable<RouteConfig, RouteLimits> _routeLimits = [];

    public InboundRequestMiddleware(
        RequestDelegate next,
        IOptionsMonitor<GuardOptions> options,
        GuardMetrics metrics,
        LimitEventLog limitLog,
        TimeProvider time,
        InboundLoadShedder overload)
    {
        _next = next;
        _options = options;
        _metrics = metrics;
        _limitLog = limitLog;
        _time = time;
        _overload = overload;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var limits = _options.CurrentValue.Inbound;
        var connection = GetConnection(context);
        if (connection is null)
        {
            // Only proxy-listener connections carry guard state; nothing else reaches this pipeline.
            await _next(context);
            return;
        }

        var count = connection.CountRequest();
        connection.Protocol ??= context.Request.Protocol;
        if (limits.MaxRequestsPerConnection is { } maxRequests && count >= maxRequests
            && connection.TryRequestClose(HardCloseDeadline(limits)))
        {
            _metrics.ConnectionClosed(CloseReasons.MaxRequestsPerConnection);
        }

        // From overload level High the connection closes after this response; at Critical the first
        // request of a connection gets 503.
        if (_overload.RejectRequest(context, connection, count, HardCloseDeadline(limits)))
        {
            return;
        }

        if (RejectOversizedRequest(context, connection, limits))
        {
            return;
        }

        var request = BeginRequest(context, connection, limits);
        InboundRequestContext.Current = request;
        try
        {
            if (request.Phase == InboundPhase.ReadingBody && limits.RequestBufferSize is { } bufferSize
                && !await BufferBodyAsync(context, request, bufferSize))
            {
                return;
            }

            await _next(context);
        }
        finally
        {
            InboundRequestContext.Current = null;
            EndRequest(context, connection, request);
        }
    }

    // Returns false when the request ended while its body was buffered: the body deadline fired (answered
    // 408 by EndRequest), Kestrel's minimum rate fired (answered 408 here), or the client went away.
    private async ValueTask<bool> BufferBodyAsync(HttpContext context, InboundRequest request, long bufferSize)
    {
        try
        {
            return await RequestBodyBuffer.FillAsync(
                request.BodyReader!, (TrackedRequestBodyStream)context.Request.Body, checked((int)bufferSize), context.Request.ContentLength, context.RequestAborted);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            // Kestrel counts and logs its own limit (minimum body rate, body size) when it closes the connection.
            context.Response.StatusCode = ex.StatusCode;
            CloseAfterResponse(context, request.Connection);
            return false;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client disconnected or the connection was aborted: nothing to answer.
            return false;
        }
    }

    private bool RejectOversizedRequest(HttpContext context, InboundConnection connection, InboundOptions limits)
    {
        // Kestrel caps the total header size and count; only the size of a single header line is the guard's.
        if (limits.MaxRequestHeaderSize < limits.MaxRequestHeadersTotalSize && HasOversizedHeader(context.Request.Headers, limits.MaxRequestHeaderSize))
        {
            Reject(context, connection, CloseReasons.MaxRequestHeaderSize, StatusCodes.Status431RequestHeaderFieldsTooLarge);
            return true;
        }

        // Kestrel checks Content-Length against the cap only when the body is first read, after the upstream
        // has already received the headers. Checking here keeps a rejected request away from the upstream.
        if (limits.MaxRequestBodySize is { } maxBody && context.Request.ContentLength > maxBody)
        {
            // Kestrel would reject the unread body again while closing the connection and count it twice.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = null;
            }

            Reject(context, connection, CloseReasons.MaxRequestBodySize, StatusCodes.Status413PayloadTooLarge);
            return true;
        }

        return false;
    }

    private static bool HasOversizedHeader(IHeaderDictionary headers, long maxLineSize)
    {
        foreach (var header in headers)
        {
            foreach (var value in header.Value)
            {
                // A header line is "name: value"; the two bytes of the separator count like nginx counts them.
                if (header.Key.Length + 2 + (value?.Length ?? 0) > maxLineSize)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void Reject(HttpContext context, InboundConnection connection, string reason, int status)
    {
        context.Response.StatusCode = status;
        CloseAfterResponse(context, connection);

        _metrics.RequestRejected(reason, status);
        _metrics.ConnectionClosed(reason);
        _limitLog.RequestRejected(reason, status, connection.ConnectionId, connection.RemoteEndPoint);
    }

    private InboundRequest BeginRequest(HttpContext context, InboundConnection connection, InboundOptions limits)
    {
        var now = _time.GetTimestamp();
        var routeLimits = GetRouteLimits(context);
        var isHttp1 = HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol);

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var isUpgrade = upgrade is { IsUpgradableRequest: true };
        var hasBody = !isUpgrade && context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true };

        var bodyDeadline = hasBody ? Deadline(now, limits.RequestBodyTimeout) : long.MaxValue;
        var responseTimeout = routeLimits.ResponseTimeout ?? limits.ResponseTimeout;
        var responseDeadline = isUpgrade ? long.MaxValue : Deadline(now, responseTimeout);

        var minResponseRate = routeLimits.HasMinResponseDataRate ? routeLimits.MinResponseDataRate : limits.MinResponseDataRate;
        if (routeLimits.HasMinResponseDataRate && isHttp1
            && context.Features.Get<IHttpMinResponseDataRateFeature>() is { } rateFeature)
        {
            rateFeature.MinDataRate = minResponseRate is { } rate
                ? new MinDataRate(rate, limits.MinResponseDataRateGracePeriod)
                : null;
        }

        InboundRequest request;
        if (isHttp1)
        {
            request = connection.Http1Request;
        }
        else
        {
            request = new InboundRequest(connection);
            connection.AddStream(request);
        }

        request.Reset(context, bodyDeadline, responseDeadline, isUpgrade ? null : minResponseRate, now);
        request.Phase = isUpgrade ? InboundPhase.Upgraded : hasBody ? InboundPhase.ReadingBody : InboundPhase.WaitingOnUpstream;
        connection.LastActivityTimestamp = now;

        if (hasBody)
        {
            request.BodyReader = context.Request.BodyReader;
            var bodyStream = GetConnectionStream(context, isHttp1, s_bodyStreamKey, static () => new TrackedRequestBodyStream());
            bodyStream.Attach(context.Request.Body, request);
            context.Request.Body = bodyStream;
        }

        if (!isUpgrade)
        {
            var responseStream = GetConnectionStream(context, isHttp1, s_responseStreamKey, () => new TrackedResponseBodyStream(_time));
            responseStream.Attach(context.Response.Body, request);
            context.Response.Body = responseStream;
        }

        context.Response.OnStarting(static state =>
        {
            var started = (InboundRequest)state;
            started.Phase = InboundPhase.WritingResponse;
            if (started.Telemetry is { } telemetry)
            {
                telemetry.ResponseContentStart = started.PhaseTimestamp;
            }

            return Task.CompletedTask;
        }, request);

        return request;
    }

    private void EndRequest(HttpContext context, InboundConnection connection, InboundRequest request)
    {
        if (request.TimeoutReason is { } reason && !request.Aborted && !context.Response.HasStarted)
        {
            // The deadline fired before the response started, so the client gets a status instead of a reset.
            var status = reason == CloseReasons.RequestBodyTimeout ? StatusCodes.Status408RequestTimeout : StatusCodes.Status504GatewayTimeout;
            context.Response.StatusCode = status;
            CloseAfterResponse(context, connection);
            _metrics.RequestRejected(reason, status);
            _metrics.ConnectionClosed(reason);
            _limitLog.RequestRejected(reason, status, connection.ConnectionId, connection.RemoteEndPoint);
        }

        if (context.Request.Body is TrackedRequestBodyStream bodyStream)
        {
            bodyStream.Detach();
        }

        if (context.Response.Body is TrackedResponseBodyStream responseStream)
        {
            responseStream.Detach();
        }

        request.Clear();
        connection.LastActivityTimestamp = _time.GetTimestamp();
        if (!ReferenceEquals(request, connection.Http1Request))
        {
            connection.RemoveStream(request);
        }
    }

    // Returns the connection's reusable wrapper for HTTP/1.1, or a new one for an HTTP/2 stream.
    private static T GetConnectionStream<T>(HttpContext context, bool isHttp1, object key, Func<T> create)
        where T : Stream
    {
        if (!isHttp1 || context.Features.Get<IConnectionItemsFeature>()?.Items is not { } items)
        {
            return create();
        }

        if (items.TryGetValue(key, out var existing) && existing is T reused)
        {
            return reused;
        }

        var created = create();
        items[key] = created;
        return created;
    }

    private RouteLimits GetRouteLimits(HttpContext context)
    {
        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config;
        if (route is null)
        {
            return RouteLimits.None;
        }

        // Route configs are immutable and replaced on reload, so caching by instance never serves stale values.
        return _routeLimits.GetValue(route, static config => RouteLimits.Parse(config, []));
    }

    private long Deadline(long now, TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : now + (long)(timeout.TotalSeconds * _time.TimestampFrequency);

    private long HardCloseDeadline(InboundOptions limits) => Deadline(_time.GetTimestamp(), limits.MaxConnectionAgeGracePeriod);

    // Ends the connection after a rejection. HTTP/1.x gets Connection: close, and a hard close shortly
    // after, because Kestrel would otherwise keep reading an unread body for as long as the client sends
    // it. HTTP/2 has no Connection header (Kestrel would drop it with a warning) and resets the stream itself.
    private void CloseAfterResponse(HttpContext context, InboundConnection connection)
    {
        if (HttpProtocol.IsHttp2(context.Request.Protocol) || HttpProtocol.IsHttp3(context.Request.Protocol))
        {
            return;
        }

        context.Response.Headers.Connection = "close";
        connection.TryRequestClose(Deadline(_time.GetTimestamp(), RejectedConnectionLinger));
    }

    private static InboundConnection? GetConnection(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items is { } items
        && items.TryGetValue(InboundConnectionMiddleware.ItemKey, out var value)
            ? value as InboundConnection
            : null;
}
