using ConnLeakGuard.Configuration;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Admin;

/// <summary>Decides whether an open connection is a suspected leak under <see cref="LeakDetectionOptions"/>.</summary>
internal static class LeakCriteria
{
    /// <summary>Reason of a connection in one state without progress for at least the stalled threshold.</summary>
    public const string Stalled = "stalled";

    /// <summary>Reason of a connection open for at least the age threshold.</summary>
    public const string Age = "age";

    /// <summary>Returns <see cref="Stalled"/>, <see cref="Age"/> or null when <paramref name="measure"/> is no suspect.</summary>
    public static string? Evaluate(ConnectionMeasure measure, LeakDetectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // An upgraded connection's bytes bypass the tracked body streams, so its progress is unknown and only
        // its age can make it a suspect.
        if (measure.State != ConnectionStates.Upgraded && measure.Stalled >= options.StalledThreshold)
        {
            return Stalled;
        }

        return measure.Age >= options.AgeThreshold ? Age : null;
    }
}
