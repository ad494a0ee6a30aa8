namespace ConnLeakGuard.Overload;

/// <summary>The shares of a limit (0 to 1) at which a signal enters each level above Normal.</summary>
internal readonly record struct OverloadThresholds(double Elevated, double High, double Critical)
{
    /// <summary>
    /// Returns the highest level whose threshold, lowered by <paramref name="margin"/>, is at most
    /// <paramref name="fraction"/>; Normal when none is.
    /// </summary>
    public OverloadLevel LevelFor(double fraction, double margin = 0)
    {
        if (fraction >= Critical - margin)
        {
            return OverloadLevel.Critical;
        }

        if (fraction >= High - margin)
        {
            return OverloadLevel.High;
        }

        return fraction >= Elevated - margin ? OverloadLevel.Elevated : OverloadLevel.Normal;
    }
}
