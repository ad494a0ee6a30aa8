using System.Diagnostics.Metrics;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Instruments for YARP's forwarder, which publishes no meter of its own (YARP 2.3). They live in the guard's
/// meter. Their labels are the cluster id from the configuration and fixed outcome, error and stage sets.
/// </summary>
internal sealed class ForwarderMetrics
{
    /// <summary>Stage label: from sending the upstream request to receiving its response headers.</summary>
    public const string StageSend = "send";

    /// <summary>Stage label: copying the request body to the upstream.</summary>
    public const string StageRequestContent = "request_content";

    /// <summary>Stage label: copying the response body to the client.</summary>
    public const string StageResponseContent = "response_content";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _stageDuration;

    public ForwarderMetrics(GuardMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);

        _requests = metrics.Meter.CreateCounter<long>(
            "connleakguard.forwarder.requests",
            unit: "{request}",
            description: "Requests that reached YARP's forwarder, by cluster and outcome.");

        _failures = metrics.Meter.CreateCounter<long>(
            "connleakguard.forwarder.failures",
            unit: "{request}",
            description: "Forwarded requests that failed, by cluster and YARP forwarder error.");

        _stageDuration = metrics.Meter.CreateHistogram(
            "connleakguard.forwarder.stage.duration",
            unit: "s",
            description: "Duration of each forwarding stage: send (until response headers), request_content, response_content.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets.Seconds });
    }

    /// <summary>Counts a request that the forwarder finished with <paramref name="outcome"/>.</summary>
    public void RequestForwarded(string? cluster, string outcome) =>
        _requests.Add(1, new KeyValuePair<string, object?>("cluster", cluster ?? string.Empty), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Counts a forwarding failure named <paramref name="error"/>.</summary>
    public void RequestFailed(string? cluster, string error) =>
        _failures.Add(1, new KeyValuePair<string, object?>("cluster", cluster ?? string.Empty), new KeyValuePair<string, object?>("error", error));

    /// <summary>Records how long <paramref name="stage"/> took.</summary>
    public void StageCompleted(string stage, TimeSpan duration) =>
        _stageDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));
}
