namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>Healthy requests completed in one sampling window, with latency percentiles in milliseconds.</summary>
internal sealed record HealthyWindow(long Succeeded, long Failed, double? P50Milliseconds, double? P99Milliseconds);
