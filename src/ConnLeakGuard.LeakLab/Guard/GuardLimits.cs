namespace ConnLeakGuard.LeakLab.Guard;

/// <summary>The guard limits that LeakLab's options set; the rest of the configuration is fixed in <see cref="GuardConfigWriter"/>.</summary>
/// <param name="MaxConnectionsPerHost">Outbound connections the guard may open to the upstream at once.</param>
/// <param name="RequestHeadersTimeout">Time a client has to send complete request headers.</param>
/// <param name="KeepAliveTimeout">Time an idle inbound keep-alive connection is kept open.</param>
/// <param name="MinDataRateGracePeriod">Grace period before the minimum request-body and response data rates apply.</param>
internal sealed record GuardLimits(
    int MaxConnectionsPerHost,
    TimeSpan RequestHeadersTimeout,
    TimeSpan KeepAliveTimeout,
    TimeSpan MinDataRateGracePeriod);
