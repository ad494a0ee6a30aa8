using Serilog.Sinks.Async;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Exports the state of the background log queues (<c>ConnLeakGuard:LogQueueCapacity</c> each): Serilog's
/// queue and the completion line queue of <see cref="CompletionLogWriter"/>. Both metrics add the two: the
/// events dropped because a queue was full, and the events waiting.
/// </summary>
/// <remarks>
/// A dropped log line is the price of never making a request wait for standard output. The counter makes
/// the loss visible: a rising <c>connleakguard_log_events_dropped_total</c> means the log reader (the
/// container runtime, a collector) cannot keep up.
/// </remarks>
internal sealed class LogQueueMonitor : IAsyncLogEventSinkMonitor
{
    private IAsyncLogEventSinkInspector? _inspector;

    public LogQueueMonitor(GuardMetrics metrics, CompletionLogWriter completionLog)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(completionLog);

        metrics.Meter.CreateObservableCounter(
            "connleakguard.log.events.dropped",
            () => (Volatile.Read(ref _inspector)?.DroppedMessagesCount ?? 0) + completionLog.DroppedCount,
            unit: "{event}",
            description: "Log events dropped because the background log queue was full.");

        metrics.Meter.CreateObservableGauge(
            "connleakguard.log.queue.depth",
            () => (Volatile.Read(ref _inspector)?.Count ?? 0) + completionLog.QueuedCount,
            unit: "{event}",
            description: "Log events waiting for the background writer.");
    }

    /// <inheritdoc />
    public void StartMonitoring(IAsyncLogEventSinkInspector inspector) => Volatile.Write(ref _inspector, inspector);

    /// <inheritdoc />
    public void StopMonitoring(IAsyncLogEventSinkInspector inspector) => Interlocked.CompareExchange(ref _inspector, null, inspector);
}
