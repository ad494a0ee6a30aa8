namespace ConnLeakGuard.Overload;

/// <summary>
/// The current overload level, read on the connection and request paths (one volatile read) and set by
/// <see cref="OverloadMonitor"/>. The inbound and outbound components apply the actions for the level they read.
/// </summary>
internal sealed class OverloadState
{
    private volatile int _level;
    private double _timeoutScale = 1.0;

    /// <summary>Raised on the monitor's thread after <see cref="CurrentTimeoutScale"/> changes.</summary>
    public event Action? TimeoutScaleChanged;

    /// <summary>The level in force: the highest level of any signal.</summary>
    public OverloadLevel Level => (OverloadLevel)_level;

    /// <summary>
    /// Factor applied to the keep-alive idle, request headers and pooled upstream idle timeouts at
    /// <see cref="OverloadLevel.Elevated"/> and above (<c>ConnLeakGuard:Overload:TimeoutScale</c>).
    /// </summary>
    public double TimeoutScale => Volatile.Read(ref _timeoutScale);

    /// <summary>The factor in force now: <see cref="TimeoutScale"/> from level Elevated on, otherwise 1.</summary>
    public double CurrentTimeoutScale => Level >= OverloadLevel.Elevated ? TimeoutScale : 1.0;

    /// <summary>Returns <paramref name="timeout"/> multiplied by <see cref="CurrentTimeoutScale"/>.</summary>
    public TimeSpan ScaleTimeout(TimeSpan timeout) => timeout * CurrentTimeoutScale;

    /// <summary>
    /// Sets the level and the configured timeout factor; returns the previous level. Raises
    /// <see cref="TimeoutScaleChanged"/> when the factor in force changes.
    /// </summary>
    public OverloadLevel SetLevel(OverloadLevel level, double timeoutScale)
    {
        var scaleBefore = CurrentTimeoutScale;

        Volatile.Write(ref _timeoutScale, timeoutScale);
        var previous = (OverloadLevel)Interlocked.Exchange(ref _level, (int)level);

        if (CurrentTimeoutScale != scaleBefore)
        {
            TimeoutScaleChanged?.Invoke();
        }

        return previous;
    }
}
