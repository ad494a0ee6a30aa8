namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Histogram bucket boundaries for durations in seconds. Without advice the OpenTelemetry SDK uses its default
/// boundaries (0 to 10 000), which suit milliseconds and put every sub-second duration into one bucket.
/// </summary>
internal static class DurationBuckets
{
    /// <summary>
    /// The OpenTelemetry HTTP duration boundaries up to 10 s, extended to 120 s (the guard's default response
    /// timeout) because long downloads and queue waits are normal behind a proxy.
    /// </summary>
    public static IReadOnlyList<double> Seconds { get; } = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120];
}
