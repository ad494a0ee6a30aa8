namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Timings and byte counts of one proxied request, filled by listeners that YARP and HttpClient call on the
/// request's own execution context, and read by <see cref="ProxyRequestLogMiddleware"/> when the request ends.
/// </summary>
/// <remarks>
/// Timestamps are <see cref="TimeProvider.GetTimestamp"/> values, zero when the stage did not happen. The
/// request body copy can run on another thread than the response, so each field has a single writer, and a
/// value that arrives after the request ended is simply not logged.
/// </remarks>
internal sealed class ProxyRequestTelemetry
{
    private static readonly AsyncLocal<ProxyRequestTelemetry?> s_current = new();

    /// <summary>The state of the request whose execution context is running, or null outside a proxied request.</summary>
    public static ProxyRequestTelemetry? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <summary>When YARP started sending the upstream request.</summary>
    public long SendStart;

    /// <summary>When YARP received the upstream response headers.</summary>
    public long SendStop;

    /// <summary>When YARP started copying the request body.</summary>
    public long RequestContentStart;

    /// <summary>When YARP started copying the response body.</summary>
    public long ResponseContentStart;

    /// <summary>Request body bytes copied to the upstream; -1 until the copy finishes.</summary>
    public long RequestBytes = -1;

    /// <summary>Response body bytes copied to the client; -1 until the copy finishes.</summary>
    public long ResponseBytes = -1;

    /// <summary>Seconds the request waited for a connection in HttpClient's pool; NaN when not reported.</summary>
    public double QueueSeconds = double.NaN;

    /// <summary>Seconds from sending the upstream request to its response headers, as HttpClient measured; NaN when not reported.</summary>
    public double UpstreamSeconds = double.NaN;
}
