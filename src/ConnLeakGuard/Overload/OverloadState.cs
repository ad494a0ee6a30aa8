namespace ConnLeakGuard.Overload;

/// <summary>
/// The current overload level, read on the connection and request paths (one volatile read) and set by the
/// overload monitor. The inbound and outbound components apply the actions for the level they read.
/// </summary>
internal sealed class OverloadState
{
    private volatile int _level;

    /// <summary>The level in force.</summary>
    public OverloadLevel Level => (OverloadLevel)_level;

    /// <summary>
    /// Factor applied to the keep-alive idle and request headers timeouts at <see cref="OverloadLevel.Elevated"/>
    /// and above. Default a quarter.
    /// </summary>
    public double TimeoutScale { get; set; } = 0.25;

    /// <summary>Sets the level; returns the previous one.</summary>
    public OverloadLevel SetLevel(OverloadLevel level) => (OverloadLevel)Interlocked.Exchange(ref _level, (int)level);
}
