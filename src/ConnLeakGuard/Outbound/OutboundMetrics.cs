using System.Diagnostics.Metrics;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Outbound;

/// <summary>The outbound instruments of the guard's meter: wait queues, failures and pooled connections.</summary>
internal sealed class OutboundMetrics
{
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _queueRejected;
    private readonly Counter<long> _failures;

    public OutboundMetrics(GuardMetrics metrics, OutboundPoolRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(registry);

        var meter = metrics.Meter;
        meter.CreateObservableGauge(
            "connleakguard.outbound.queue.pending",
            () => registry.Pools.Select(p => new Measurement<long>(p.Pending, Tags(p.Cluster, p.Destination))),
            unit: "{request}",
            description: "Requests waiting for a connection slot to the destination.");

        _queueWait = meter.CreateHistogram<double>(
            "connleakguard.outbound.queue.wait_time",
            unit: "s",
            description: "Time requests waited for a connection slot, including those that gave up.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets.Seconds });

        _queueRejected = meter.CreateCounter<long>(
            "connleakguard.outbound.queue.rejected",
            unit: "{request}",
            description: "Requests answered 503 because the wait queue was full or its deadline passed.");

        _failures = meter.CreateCounter<long>(
            "connleakguard.outbound.failures",
            unit: "{request}",
            description: "Upstream requests that failed, by kind.");

        meter.CreateObservableGauge(
            "connleakguard.outbound.connections.open",
            () => ObserveConnections(registry),
            unit: "{connection}",
            description: "Open connections to each destination, by state (active: carrying a request; idle: pooled).");
    }

    /// <summary>Records the time a request waited for a slot.</summary>
    public void QueueWaited(string cluster, string destination, TimeSpan wait) =>
        _queueWait.Record(wait.TotalSeconds, Tags(cluster, destination));

    /// <summary>Counts a request rejected by the wait queue.</summary>
    public void QueueRejected(string cluster, string destination, string reason) =>
        _queueRejected.Add(1, new KeyValuePair<string, object?>("cluster", cluster), new KeyValuePair<string, object?>("destination", destination), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts an upstream failure.</summary>
    public void Failed(string cluster, string destination, string kind) =>
        _failures.Add(1, new KeyValuePair<string, object?>("cluster", cluster), new KeyValuePair<string, object?>("destination", destination), new KeyValuePair<string, object?>("kind", kind));

    private static IEnumerable<Measurement<int>> ObserveConnections(OutboundPoolRegistry registry)
    {
        foreach (var ((cluster, destination), open) in registry.OpenConnections)
        {
            // HTTP/1.1 carries one request per connection, so requests holding a slot are the active
            // connections; the rest of the open ones sit idle in the pool.
            var pool = registry.Pools.FirstOrDefault(p => p.Cluster == cluster && p.Destination == destination);
            var active = (int)Math.Min(open, pool?.Active ?? 0);
            yield return new Measurement<int>(active, [.. Tags(cluster, destination), new("state", "active")]);
            yield return new Measurement<int>(open - active, [.. Tags(cluster, destination), new("state", "idle")]);
        }
    }

    private static KeyValuePair<string, object?>[] Tags(string cluster, string destination) =>
        [new("cluster", cluster), new("destination", destination)];
}
