namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// The healthy client's totals for one run. Requests in flight when the run stops are awaited (up to
/// their timeout) and counted. Latencies are in milliseconds and include failed requests.
/// </summary>
internal sealed record HealthySummary(
    long Completed,
    long Succeeded,
    long Failed,
    double SuccessRatePercent,
    double? P50Milliseconds,
    double? P95Milliseconds,
    double? P99Milliseconds,
    double? MaxMilliseconds,
    IReadOnlyDictionary<string, long> FailureReasons);
