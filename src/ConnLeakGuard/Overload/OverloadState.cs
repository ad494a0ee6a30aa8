namespace ConnLeakGuard.Overload;

/// <summary>
/// The current overload level, read on the connection and request paths (one volatile read) and set by
/// <see cref="OverloadMonitor"/>. The inbound and outbound components apply the actions for the level they read.
/// </summary>
internal sealed class OverloadState
{
    private volatile int _level;
    private double _timeoutScale = 1.0;
    private long _scaleChangedTimestamp;

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

    /// <summary>
    /// Timestamp (of the monitor's <see cref="TimeProvider"/>) at which <see cref="CurrentTimeoutScale"/> last
    /// changed and Kestrel got the new values, or 0. Kestrel reads its timeouts when a connection starts, so
    /// a connection opened before this timestamp runs on the previous values.
    /// </summary>
    public long ScaleChangedTimestamp => Volatile.Read(ref _scaleChangedTimestamp);

    /// <summary>Returns <paramref name="timeout"/> multiplied by <see cref="CurrentTimeoutScale"/>.</summary>
    public TimeSpan ScaleTimeout(TimeSpan timeout) => timeout * CurrentTimeoutScale;

    /// <summary>
    /// Sets the level and the configured timeout factor, and returns the previous level. Raises
    /// <see cref="TimeoutScaleChanged"/> when the factor in force changes, then records the time from
    /// <paramref name="time"/> in <see cref="ScaleChangedTimestamp"/>.
    /// </summary>
    public OverloadLevel SetLevel(OverloadLevel level, double timeoutScale, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);

        var scaleBefore = CurrentTimeoutScale;

        Volatile.Write(ref _timeoutScale, timeoutScale);
        var previous = (OverloadLevel)Interlocked.Exchange(ref _level, (int)level);

        if (CurrentTimeoutScale != scaleBefore)
        {
            // The subscribers apply the new values to Kestrel before the time is taken, so every connection
            // opened after the timestamp has them.
            TimeoutScaleChanged?.Invoke();
            Volatile.Write(ref _scaleChangedTimestamp, time.GetTimestamp());
        }

        return previous;
    }
}
