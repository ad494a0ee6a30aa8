namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Timings and byte counts of one proxied request: filled by the guard's body streams and by the HttpClient
/// listener, read by <see cref="ProxyRequestLogMiddleware"/> when the request ends.
/// </summary>
/// <remarks>
/// The log middleware creates it and stores it in the request's features; the inbound middleware links it to
/// the request's <see cref="Inbound.InboundRequest"/>. Timestamps are <see cref="TimeProvider.GetTimestamp"/>
/// values, zero when the stage did not happen. The request body copy can run on another thread than the
/// response, so each field has a single writer, and a value that arrives after the request ended is not
/// logged. The guard counts the bytes itself, because an in-process listener on YARP's events costs an
/// event object and boxed values for each of about eight events per request.
/// </remarks>
internal sealed class ProxyRequestTelemetry
{
    /// <summary>Timestamp of the forwarder's first read of the request body.</summary>
    public long RequestContentStart;

    /// <summary>Timestamp at which the forwarder read the end of the request body.</summary>
    public long RequestContentEnd;

    /// <summary>Timestamp at which the response started.</summary>
    public long ResponseContentStart;

    /// <summary>Request body bytes read by the forwarder; -1 until it reads the body.</summary>
    public long RequestBytes = -1;

    /// <summary>Response body bytes accepted by the client connection; -1 until the first write.</summary>
    public long ResponseBytes = -1;

    /// <summary>Seconds the request waited for a connection in HttpClient's pool; NaN when not reported.</summary>
    public double QueueSeconds = double.NaN;

    /// <summary>Seconds from sending the upstream request to its response headers, as HttpClient measured; NaN when not reported.</summary>
    public double UpstreamSeconds = double.NaN;

    /// <summary>
    /// Counts <paramref name="read"/> request body bytes. A read of 0 bytes marks the end of the body. The
    /// clock is read only at the first read and at the end, because this runs on every read.
    /// </summary>
    public void CountRequestBytes(int read, TimeProvider time)
    {
        if (RequestBytes < 0)
        {
            RequestBytes = 0;
            RequestContentStart = time.GetTimestamp();
        }

        RequestBytes += read;
        if (read == 0)
        {
            RequestContentEnd = time.GetTimestamp();
        }
    }

    /// <summary>Counts <paramref name="written"/> response body bytes.</summary>
    public void CountResponseBytes(int written) => ResponseBytes = Math.Max(ResponseBytes, 0) + written;
}
