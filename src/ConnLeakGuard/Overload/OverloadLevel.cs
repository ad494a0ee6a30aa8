namespace ConnLeakGuard.Overload;

/// <summary>Pressure levels, in increasing order. Each level includes the actions of the ones below it.</summary>
internal enum OverloadLevel
{
    /// <summary>No action.</summary>
    Normal = 0,

    /// <summary>
    /// Keep-alive idle, request headers and pooled outbound idle timeouts are scaled down, also for the
    /// connections already open.
    /// </summary>
    Elevated = 1,

    /// <summary>Idle keep-alive and pooled connections are closed, and responses carry <c>Connection: close</c>.</summary>
    High = 2,

    /// <summary>
    /// New connections are closed at once, and connections still sending their first headers are aborted.
    /// In-flight requests are still served.
    /// </summary>
    Critical = 3,
}
