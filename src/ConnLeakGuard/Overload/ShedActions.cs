namespace ConnLeakGuard.Overload;

/// <summary>Values of the <c>action</c> label of <c>connleakguard.overload.shed</c>: what the guard did to a connection.</summary>
internal static class ShedActions
{
    /// <summary>Elevated: a keep-alive connection idle longer than the scaled keep-alive timeout was closed.</summary>
    public const string InboundIdleExpired = "inbound_idle_expired";

    /// <summary>Elevated: a pooled upstream connection idle longer than the scaled pooled idle timeout was closed.</summary>
    public const string OutboundIdleExpired = "outbound_idle_expired";

    /// <summary>High: an idle keep-alive connection was closed.</summary>
    public const string InboundIdleClosed = "inbound_idle_closed";

    /// <summary>High: an idle pooled upstream connection was closed.</summary>
    public const string OutboundIdleClosed = "outbound_idle_closed";

    /// <summary>High: a connection was asked to close after its current response (<c>Connection: close</c> or GOAWAY).</summary>
    public const string InboundCloseAfterResponse = "inbound_close_after_response";

    /// <summary>Elevated: a connection still sending its first request's headers after the scaled headers timeout was aborted.</summary>
    public const string InboundHeadersExpired = "inbound_headers_expired";

    /// <summary>Critical: a connection still sending its first request's headers after one second was aborted.</summary>
    public const string InboundHeadersAborted = "inbound_headers_aborted";

    /// <summary>Critical: a new connection was closed at once, with no response.</summary>
    public const string InboundConnectionRejected = "inbound_connection_rejected";

    /// <summary>Critical: the first request of a connection accepted just before got a 503 response.</summary>
    public const string InboundRequestRejected = "inbound_request_rejected";
}
