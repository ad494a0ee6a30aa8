using ConnLeakGuard.Inbound;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// Turns a failed upstream request into the status the client sees, when the response has not started:
/// 503 with <c>Retry-After</c> when no connection slot was free, 504 for every upstream timeout (YARP itself
/// would answer some of them 400 or 502), 502 for refused and reset connections. Logs each failure once.
/// </summary>
internal sealed class UpstreamErrorMiddleware
{
    /// <summary>Seconds a client is asked to wait after a 503 from a full or slow wait queue.</summary>
    public const int RetryAfterSeconds = 1;

    private readonly RequestDelegate _next;
    private readonly OutboundMetrics _metrics;
    private readonly UpstreamFailureLog _log;

    public UpstreamErrorMiddleware(RequestDelegate next, OutboundMetrics metrics, UpstreamFailureLog log)
    {
        _next = next;
        _metrics = metrics;
        _log = log;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        await _next(context);

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || error.Error == ForwarderError.None || InboundRequestContext.Current?.TimeoutReason is not null)
        {
            // No upstream failure, or an inbound deadline already decided the answer.
            return;
        }

        var (kind, status) = Classify(error);
        if (status is null)
        {
            return;
        }

        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = status.Value;
            if (status == StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = "1";
            }
        }

        var proxy = context.Features.Get<IReverseProxyFeature>();
        var cluster = proxy?.Cluster?.Config.ClusterId ?? "unknown";
        var destination = proxy?.ProxiedDestination?.Model.Config.Address ?? "unknown";
        if (error.Error == ForwarderError.RequestTimedOut)
        {
            // YARP's activity timeout fires inside the forwarder; the admission handler never sees it.
            _metrics.Failed(cluster, destination, kind);
        }

        var connectionId = context.Features.Get<IConnectionIdFeature>()?.ConnectionId ?? context.Connection.Id;
        _log.Failed(kind, status.Value, cluster, destination, connectionId, error.Exception);
    }

    // Returns the failure kind and the status for the client, or a null status for client-side errors
    // (the client aborted or sent a broken body), which keep YARP's answer.
    private static (string Kind, int? Status) Classify(IForwarderErrorFeature error)
    {
        for (var exception = error.Exception; exception is not null; exception = exception.InnerException)
        {
            if (exception is UpstreamRejectedException rejected)
            {
                return (rejected.Kind, rejected.Kind switch
                {
                    UpstreamFailureKinds.QueueFull or UpstreamFailureKinds.QueueTimeout => StatusCodes.Status503ServiceUnavailable,
                    UpstreamFailureKinds.ConnectTimeout or UpstreamFailureKinds.ResponseTimeout => StatusCodes.Status504GatewayTimeout,
                    _ => StatusCodes.Status502BadGateway,
                });
            }
        }

        return error.Error switch
        {
            ForwarderError.RequestTimedOut => (UpstreamFailureKinds.ActivityTimeout, StatusCodes.Status504GatewayTimeout),
            ForwarderError.Request or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination
                => (UpstreamFailureKinds.Other, StatusCodes.Status502BadGateway),
            ForwarderError.NoAvailableDestinations => (UpstreamFailureKinds.Other, StatusCodes.Status503ServiceUnavailable),
            _ => (UpstreamFailureKinds.Other, null),
        };
    }
}
