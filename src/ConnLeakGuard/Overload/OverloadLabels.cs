namespace ConnLeakGuard.Overload;

/// <summary>
/// Label values of the overload metrics and log lines. They are fixed sets, so the series count stays bounded.
/// </summary>
internal static class OverloadLabels
{
    /// <summary>Returns the <c>signal</c> label: <c>memory</c> or <c>file_descriptors</c>.</summary>
    public static string Of(OverloadSignal signal) => signal switch
    {
        OverloadSignal.Memory => "memory",
        OverloadSignal.FileDescriptors => "file_descriptors",
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "unknown overload signal"),
    };

    /// <summary>Returns the <c>from</c> and <c>to</c> label of a level: <c>normal</c>, <c>elevated</c>, <c>high</c> or <c>critical</c>.</summary>
    public static string Of(OverloadLevel level) => level switch
    {
        OverloadLevel.Normal => "normal",
        OverloadLevel.Elevated => "elevated",
        OverloadLevel.High => "high",
        OverloadLevel.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "unknown overload level"),
    };
}
