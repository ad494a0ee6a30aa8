using System.Diagnostics.Metrics;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// The connection-table instruments of the guard's meter: the age of connections at close, per side, and
/// the suspected leaks found by the leak monitor, per side and state.
/// </summary>
/// <remarks>
/// The age is a histogram recorded at close rather than a summary of the open connections, because only a
/// histogram of events gives Prometheus monotonic buckets that <c>rate()</c> and
/// <c>histogram_quantile()</c> can aggregate across pods, and OpenTelemetry .NET has no observable histogram.
/// A connection that never closes never reaches the histogram; the suspected-leak gauge covers those,
/// because it counts the open connections older than <c>LeakDetection:AgeThreshold</c>.
/// </remarks>
internal sealed class ConnectionMetrics
{
    /// <summary>
    /// Bucket boundaries in seconds. They bracket the default limits that end a connection: headers 10 s,
    /// body 60 s, keep-alive 75 s, response 120 s, pooled lifetime 5 min, maximum age 10 min. Sub-second
    /// buckets separate clients that close after one request.
    /// </summary>
    public static IReadOnlyList<double> AgeBuckets { get; } = [0.1, 0.5, 1, 5, 10, 30, 60, 90, 120, 300, 600, 900, 1800, 3600, 7200];

    private static readonly KeyValuePair<string, object?>[][] s_suspectTags =
        [.. ConnectionStates.All.Select(pair => new KeyValuePair<string, object?>[] { new("side", pair.Side), new("state", pair.State) })];

    private readonly Histogram<double> _age;
    private int[] _suspects = new int[ConnectionStates.All.Count];

    public ConnectionMetrics(GuardMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);

        var meter = metrics.Meter;
        _age = meter.CreateHistogram<double>(
            "connleakguard.connection.age",
            unit: "s",
            description: "Age of connections when they closed, by side (inbound: clients; outbound: upstreams).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AgeBuckets });

        meter.CreateObservableGauge(
            "connleakguard.connections.suspected_leaks",
            ObserveSuspects,
            unit: "{connection}",
            description: "Open connections stalled in one state or older than the leak detection thresholds, by side and state.");
    }

    /// <summary>Records the age of a connection of <paramref name="side"/> that has just closed.</summary>
    public void ConnectionClosed(string side, TimeSpan age) =>
        _age.Record(age.TotalSeconds, new KeyValuePair<string, object?>("side", side));

    /// <summary>
    /// Replaces the suspected-leak counts; <paramref name="counts"/> is indexed like
    /// <see cref="ConnectionStates.All"/> and must not change after the call.
    /// </summary>
    public void PublishSuspects(int[] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentOutOfRangeException.ThrowIfNotEqual(counts.Length, ConnectionStates.All.Count);

        Volatile.Write(ref _suspects, counts);
    }

    // Every pair is reported, zeros included: the exporter keeps the last value of a series that an
    // observable gauge stops reporting, so a count that drops to zero must be reported as zero.
    private IEnumerable<Measurement<int>> ObserveSuspects()
    {
        var counts = Volatile.Read(ref _suspects);
        for (var i = 0; i < counts.Length; i++)
        {
            yield return new Measurement<int>(counts[i], s_suspectTags[i]);
        }
    }
}
