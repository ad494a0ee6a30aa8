namespace ConnLeakGuard.Overload;

/// <summary>Pressure levels, in increasing order; each level includes the actions of the ones below it.</summary>
internal enum OverloadLevel
{
    /// <summary>No action.</summary>
    Normal = 0,

    /// <summary>Keep-alive idle, request headers and pooled outbound idle timeouts are scaled down.</summary>
    Elevated = 1,

    /// <summary>Idle keep-alive and pooled connections are closed; responses carry <c>Connection: close</c>.</summary>
    High = 2,

    /// <summary>New connections are closed at once; in-flight requests are still served.</summary>
    Critical = 3,
}
