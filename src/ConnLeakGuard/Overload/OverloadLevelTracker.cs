namespace ConnLeakGuard.Overload;

/// <summary>
/// The level of one signal with hysteresis. The level rises at once when the signal reaches a higher
/// threshold. It drops only after the signal has stayed below the current level's threshold minus the
/// recovery margin for the whole hold time, and then to the highest level the signal reached (margin
/// included) during that time.
/// </summary>
/// <remarks>Called from one thread, the monitor's; not thread-safe.</remarks>
internal sealed class OverloadLevelTracker
{
    // Timestamp (TimeProvider ticks) at which the signal first fell below the recovery point, or -1.
    private long _belowSince = -1;
    private OverloadLevel _holdPeak;

    /// <summary>The signal's current level.</summary>
    public OverloadLevel Level { get; private set; }

    /// <summary>
    /// Applies one reading taken at <paramref name="now"/>; returns true and the level before when the level
    /// changes.
    /// </summary>
    public bool Update(double fraction, OverloadThresholds thresholds, double margin, TimeSpan holdTime, long now, long timestampFrequency, out OverloadLevel previous)
    {
        previous = Level;

        var raised = thresholds.LevelFor(fraction);
        if (raised > Level)
        {
            Level = raised;
            _belowSince = -1;
            return true;
        }

        var recovered = thresholds.LevelFor(fraction, margin);
        if (recovered >= Level)
        {
            _belowSince = -1;
            return false;
        }

        if (_belowSince < 0)
        {
            _belowSince = now;
            _holdPeak = recovered;
        }
        else if (recovered > _holdPeak)
        {
            _holdPeak = recovered;
        }

        var heldTicks = now - _belowSince;
        if (heldTicks < holdTime.TotalSeconds * timestampFrequency)
        {
            return false;
        }

        Level = _holdPeak;
        _belowSince = -1;
        return true;
    }
}
