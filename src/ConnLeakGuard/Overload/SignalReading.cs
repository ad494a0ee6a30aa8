namespace ConnLeakGuard.Overload;

/// <summary>
/// One reading of a signal: the amount in use, the limit in the same unit (bytes or descriptors), and
/// where both came from, for the log.
/// </summary>
internal readonly record struct SignalReading(long Used, long Limit, string Source)
{
    /// <summary>The share of the limit in use, from 0 (also for a limit of 0) up to 1 and beyond.</summary>
    public double Fraction => Limit > 0 ? (double)Used / Limit : 0;
}
