using Microsoft.Extensions.Hosting;

namespace ConnLeakGuard.Admin;

/// <summary>
/// A timestamp refreshed every <see cref="Period"/> by a thread-pool timer. When the thread pool is starved or
/// deadlocked the timer cannot run, the stamp ages, and <c>/healthz/live</c> reports the process as wedged.
/// </summary>
internal sealed class LivenessHeartbeat : IHostedService, IDisposable
{
    /// <summary>How often the stamp is refreshed.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Default age after which the process counts as wedged: ten missed beats, long enough that a full
    /// garbage collection or a CPU-throttled container does not fail liveness.
    /// </summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private ITimer? _timer;
    private long _lastBeat;

    public LivenessHeartbeat(TimeProvider time)
        : this(time, DefaultStaleAfter)
    {
    }

    internal LivenessHeartbeat(TimeProvider time, TimeSpan staleAfter)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(staleAfter, TimeSpan.Zero);

        _time = time;
        StaleAfter = staleAfter;
        _lastBeat = time.GetTimestamp();
    }

    /// <summary>Age of the stamp at which liveness fails.</summary>
    public TimeSpan StaleAfter { get; }

    /// <summary>Time since the last beat.</summary>
    public TimeSpan Age => _time.GetElapsedTime(Volatile.Read(ref _lastBeat));

    /// <summary>Whether the last beat is younger than <see cref="StaleAfter"/>.</summary>
    public bool IsAlive => Age < StaleAfter;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Beat();
        _timer = _time.CreateTimer(static state => ((LivenessHeartbeat)state!).Beat(), this, Period, Period);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        // The timer keeps running while the host drains, so liveness stays true during a graceful shutdown.
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => _timer?.Dispose();

    /// <summary>Refreshes the stamp.</summary>
    internal void Beat() => Volatile.Write(ref _lastBeat, _time.GetTimestamp());
}
