using System.Diagnostics;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// The values of one <c>ProxyRequestCompleted</c> line, captured when the request ends and formatted later by
/// <see cref="CompletionLogWriter"/> on its own thread.
/// </summary>
/// <remarks>
/// A struct of references and numbers that already exist when the request ends: capturing it allocates
/// nothing, and the queue stores it without boxing. Null marks a value that does not apply (no route, no
/// upstream response).
/// </remarks>
internal readonly struct CompletionLogEntry
{
    /// <summary>Time at which the request ended, UTC.</summary>
    public required DateTime Timestamp { get; init; }

    /// <summary>Request method.</summary>
    public required string Method { get; init; }

    /// <summary>YARP route id; null when no route matched.</summary>
    public string? RouteId { get; init; }

    /// <summary>YARP cluster id; null when the request never reached a cluster.</summary>
    public string? ClusterId { get; init; }

    /// <summary>Destination id within the cluster; null when no destination was chosen.</summary>
    public string? DestinationId { get; init; }

    /// <summary>Status code sent to the client.</summary>
    public required int StatusCode { get; init; }

    /// <summary>Forwarding outcome, as on the forwarder counter, or <c>not_forwarded</c>.</summary>
    public required string Outcome { get; init; }

    /// <summary>YARP's forwarder error in snake case; null on success.</summary>
    public string? ForwarderError { get; init; }

    /// <summary>Whole request, in milliseconds.</summary>
    public required double DurationMs { get; init; }

    /// <summary>Until the upstream's response headers, in milliseconds; null without an upstream call.</summary>
    public double? UpstreamMs { get; init; }

    /// <summary>Wait for a pooled upstream connection, in milliseconds; null when HttpClient reports none.</summary>
    public double? QueueMs { get; init; }

    /// <summary>Request body bytes forwarded; null when unknown.</summary>
    public long? RequestBytes { get; init; }

    /// <summary>Response body bytes sent; null when no body was written.</summary>
    public long? ResponseBytes { get; init; }

    /// <summary>Protocol of the client's request, such as <c>HTTP/1.1</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary>Kestrel's connection id.</summary>
    public string? ConnectionId { get; init; }

    /// <summary>ASP.NET Core's request id (connection id and request number on the connection).</summary>
    public string? RequestId { get; init; }

    /// <summary>W3C trace id of the request; default when no activity was running.</summary>
    public ActivityTraceId TraceId { get; init; }

    /// <summary>Span id of the guard's server span; default when no activity was running.</summary>
    public ActivitySpanId SpanId { get; init; }
}
