using ConnLeakGuard.Configuration;
using ConnLeakGuard.Lifecycle;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Overload;

/// <summary>
/// Samples the memory and descriptor signals every <c>ConnLeakGuard:Overload:SampleInterval</c>, keeps each
/// signal's level with hysteresis, and publishes the highest one in <see cref="OverloadState"/>. On each
/// sample it also closes idle upstream connections for the level, marks the guard not ready at Critical,
/// and, from memory level Elevated on, compacts the heap when no full collection has run for a while.
/// </summary>
internal sealed partial class OverloadMonitor : BackgroundService
{
    /// <summary>Readiness source name used at the critical level.</summary>
    public const string ReadinessSource = "overload";

    // Minimum time between two collections induced here. An aggressive collection stops every thread for
    // milliseconds to tens of milliseconds on a heap of a few hundred MiB (an estimate), so one per 5 s at
    // most keeps that a small share of the time.
    private static readonly TimeSpan s_minCollectionInterval = TimeSpan.FromSeconds(5);

    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly OverloadState _state;
    private readonly OverloadMetrics _metrics;
    private readonly GuardReadiness _readiness;
    private readonly OutboundIdleCloser _outbound;
    private readonly TimeProvider _time;
    private readonly ILogger<OverloadMonitor> _logger;
    private readonly SignalTrack[] _signals = [new(OverloadSignal.Memory), new(OverloadSignal.FileDescriptors)];
    private long? _descriptorLimit;
    private string? _lastFailure;
    private int _fullCollections = -1;
    private long _fullCollectionSeen;

    public OverloadMonitor(
        IOptionsMonitor<GuardOptions> options,
        OverloadState state,
        OverloadMetrics metrics,
        GuardReadiness readiness,
        OutboundIdleCloser outbound,
        TimeProvider time,
        ILogger<OverloadMonitor> logger)
    {
        _options = options;
        _state = state;
        _metrics = metrics;
        _readiness = readiness;
        _outbound = outbound;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _options.CurrentValue.Overload.SampleInterval;
        using var timer = new PeriodicTimer(interval, _time);

        do
        {
            TrySample();

            // A reloaded interval applies from the next tick.
            var configured = _options.CurrentValue.Overload.SampleInterval;
            if (configured != interval)
            {
                interval = configured;
                timer.Period = configured;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // An unexpected failure must not stop the host, so the proxy keeps running without load shedding.
    // The failure is logged once until a sample succeeds again.
    private void TrySample()
    {
        try
        {
            Sample();
            _lastFailure = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failure = $"{ex.GetType().Name}: {ex.Message}";
            if (failure != _lastFailure)
            {
                LogSampleFailed(_logger, ex);
            }

            _lastFailure = failure;
        }
    }

    /// <summary>Takes one reading of each signal and applies the resulting level.</summary>
    internal void Sample()
    {
        var options = _options.CurrentValue;
        var overload = options.Overload;
        var now = _time.GetTimestamp();

        var memoryThresholds = new OverloadThresholds(overload.MemoryElevated, overload.MemoryHigh, overload.MemoryCritical);
        RefreshStaleHeapReading(_signals[0].Tracker.Level, memoryThresholds);
        var memory = MemorySignalReader.Read(overload.CgroupRoot, overload.ProcRoot, out var memoryProblem);
        Update(_signals[0], memory, memoryProblem, memoryThresholds, overload, now);

        SignalReading? descriptors = FileDescriptorReader.TryRead(overload.ProcRoot, _descriptorLimit, out var reading, out var descriptorProblem) ? reading : null;
        _descriptorLimit = descriptors?.Limit ?? _descriptorLimit;
        Update(_signals[1], descriptors, descriptorProblem, new OverloadThresholds(overload.FileDescriptorsElevated, overload.FileDescriptorsHigh, overload.FileDescriptorsCritical), overload, now);

        var level = _signals.Max(s => s.Tracker.Level);
        _state.SetLevel(level, overload.TimeoutScale, _time);
        UpdateReadiness(level);

        _outbound.CloseIdle(level, options.Outbound.PooledConnectionIdleTimeout * overload.TimeoutScale, overload.SampleInterval);
        CompactHeapIfStale(_signals[0].Tracker.Level, now);
    }

    private void Update(SignalTrack track, SignalReading? reading, string? problem, OverloadThresholds thresholds, OverloadOptions overload, long now)
    {
        var name = OverloadLabels.Of(track.Signal);
        ReportAvailability(track, reading, problem, name);

        // An unreadable signal counts as 0, so its level falls back to Normal after the hold time instead of
        // keeping the guard shedding on a stale reading.
        var fraction = reading?.Fraction ?? 0;
        if (!track.Tracker.Update(fraction, thresholds, overload.RecoveryMargin, overload.RecoveryHoldTime, now, _time.TimestampFrequency, out var previous))
        {
            return;
        }

        var current = track.Tracker.Level;
        _metrics.LevelChanged(track.Signal, previous, current);

        var used = reading?.Used ?? 0;
        var limit = reading?.Limit ?? 0;
        var source = reading?.Source ?? "no reading";
        var from = OverloadLabels.Of(previous);
        var to = OverloadLabels.Of(current);
        if (current > previous)
        {
            LogLevelRose(_logger, name, from, to, used, limit, fraction * 100, source);
        }
        else
        {
            LogLevelFell(_logger, name, from, to, used, limit, fraction * 100, source);
        }
    }

    // Logs each source and limit of a signal the first time it is read, "no limit" once, and a problem
    // once until it clears. The memory signal switches between two sources, so each is logged only once.
    private void ReportAvailability(SignalTrack track, SignalReading? reading, string? problem, string name)
    {
        if (problem is not null)
        {
            if (problem != track.Problem)
            {
                LogSignalUnreadable(_logger, name, problem);
            }

            track.Problem = problem;
            return;
        }

        track.Problem = null;
        if (!track.Seen.Add((reading?.Source, reading?.Limit ?? 0)))
        {
            return;
        }

        if (reading is { } current)
        {
            LogSignalSource(_logger, name, current.Source, current.Limit);
        }
        else
        {
            LogSignalNoLimit(_logger, name);
        }
    }

    private void UpdateReadiness(OverloadLevel level)
    {
        if (level < OverloadLevel.Critical)
        {
            _readiness.SetReady(ReadinessSource);
            return;
        }

        var critical = _signals.Where(s => s.Tracker.Level == OverloadLevel.Critical).Select(s => OverloadLabels.Of(s.Signal));
        _readiness.SetNotReady(ReadinessSource, $"overload level critical ({string.Join(", ", critical)}): new connections are rejected");
    }

    // The heap reading changes only when a collection runs, and under a heap limit the collector can let
    // the heap grow by more than a level's width before it runs. When the heap's current size, including
    // objects allocated since the last collection, would reach the next level, a young-generation
    // collection makes the reading current. Sample calls this once, so it runs at most once per interval.
    private static void RefreshStaleHeapReading(OverloadLevel memoryLevel, OverloadThresholds thresholds)
    {
        if (memoryLevel == OverloadLevel.Critical)
        {
            return;
        }

        var heap = MemorySignalReader.ReadGcHeap();
        var next = memoryLevel + 1;
        var allocated = (double)GC.GetTotalMemory(forceFullCollection: false) / Math.Max(1, heap.Limit);
        if (thresholds.LevelFor(allocated) >= next && thresholds.LevelFor(heap.Fraction) < next)
        {
            GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
        }
    }

    // The memory signal shows the heap as of the last collection, and the cgroup usage as of the last time
    // the collector returned memory. Under load, collections are frequent. Once the guard sheds load they
    // can stop, and a stale reading would keep the level raised. A compacting collection that returns free
    // memory to the system makes the reading current.
    private void CompactHeapIfStale(OverloadLevel memoryLevel, long now)
    {
        var fullCollections = GC.CollectionCount(GC.MaxGeneration);
        if (fullCollections != _fullCollections)
        {
            _fullCollections = fullCollections;
            _fullCollectionSeen = now;
            return;
        }

        var hold = _options.CurrentValue.Overload.RecoveryHoldTime;
        var interval = hold > s_minCollectionInterval ? hold : s_minCollectionInterval;
        if (memoryLevel < OverloadLevel.Elevated || _time.GetElapsedTime(_fullCollectionSeen, now) < interval)
        {
            return;
        }

        var before = GC.GetGCMemoryInfo().HeapSizeBytes;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var after = GC.GetGCMemoryInfo().HeapSizeBytes;
        var levelName = OverloadLabels.Of(memoryLevel);
        LogHeapCompacted(_logger, levelName, before, after);
    }

    [LoggerMessage(EventId = 6001, EventName = "OverloadLevelRose", Level = LogLevel.Warning,
        Message = "Overload level of {Signal} rose from {From} to {To}: {Used} of {Limit} in use ({Percent:F1}%), read from {Source}")]
    private static partial void LogLevelRose(ILogger logger, string signal, string from, string to, long used, long limit, double percent, string source);

    [LoggerMessage(EventId = 6002, EventName = "OverloadLevelFell", Level = LogLevel.Information,
        Message = "Overload level of {Signal} fell from {From} to {To}: {Used} of {Limit} in use ({Percent:F1}%), read from {Source}")]
    private static partial void LogLevelFell(ILogger logger, string signal, string from, string to, long used, long limit, double percent, string source);

    [LoggerMessage(EventId = 6003, EventName = "OverloadSignalSource", Level = LogLevel.Information,
        Message = "Overload signal {Signal} is read from {Source} with a limit of {Limit}")]
    private static partial void LogSignalSource(ILogger logger, string signal, string source, long limit);

    [LoggerMessage(EventId = 6004, EventName = "OverloadSignalNoLimit", Level = LogLevel.Information,
        Message = "Overload signal {Signal} has no limit to compare with; its level stays normal")]
    private static partial void LogSignalNoLimit(ILogger logger, string signal);

    [LoggerMessage(EventId = 6005, EventName = "OverloadSignalUnreadable", Level = LogLevel.Warning,
        Message = "Overload signal {Signal} cannot be read: {Problem}. Until it can, memory is read from the garbage collector heap alone and descriptors count as 0%")]
    private static partial void LogSignalUnreadable(ILogger logger, string signal, string problem);

    // Debug, because a signal held up by memory outside the heap repeats this every interval.
    [LoggerMessage(EventId = 6006, EventName = "OverloadHeapCompacted", Level = LogLevel.Debug,
        Message = "Compacted the heap at memory overload level {Level} because no full collection had run: heap {BeforeBytes} bytes before, {AfterBytes} after")]
    private static partial void LogHeapCompacted(ILogger logger, string level, long beforeBytes, long afterBytes);

    [LoggerMessage(EventId = 6007, EventName = "OverloadSampleFailed", Level = LogLevel.Error,
        Message = "Overload sampling failed; the level stays as it was until a sample succeeds")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);

    // The per-signal state of the monitor: the tracker and what was last logged about the signal's source.
    private sealed class SignalTrack(OverloadSignal signal)
    {
        public OverloadSignal Signal { get; } = signal;

        public OverloadLevelTracker Tracker { get; } = new();

        public HashSet<(string? Source, long Limit)> Seen { get; } = [];

        public string? Problem { get; set; }
    }
}
