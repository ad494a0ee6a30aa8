namespace ConnLeakGuard.Configuration;

/// <summary>
/// When the connection table reports an open connection as a suspected leak (section
/// <c>ConnLeakGuard:LeakDetection</c>). Suspects are listed at <c>/debug/leaks</c>, counted in
/// <c>connleakguard_connections_suspected_leaks</c> and logged once each.
/// </summary>
internal sealed class LeakDetectionOptions
{
    /// <summary>
    /// Time a connection may stay in one state without moving a byte before it is a suspect. Default 150 s,
    /// longer than any state lasts under the default limits: response 120 s, keep-alive 75 s, body 60 s,
    /// upstream activity 60 s, headers 10 s, pooled idle 4 s. With those limits only a connection that
    /// escaped a limit crosses it. Raise it above any limit raised beyond 150 s, or the table flags
    /// connections the limits still cover.
    /// </summary>
    [Setting(Min = "1s", Max = "1d")]
    public TimeSpan StalledThreshold { get; set; } = TimeSpan.FromSeconds(150);

    /// <summary>
    /// Age after which an open connection is a suspect whatever it is doing. Default 15 min: older than an
    /// inbound connection can get under the default maximum age with its grace period (10 min 30 s) and than
    /// an upstream connection under the pooled lifetime plus one response (5 min + 2 min).
    /// </summary>
    [Setting(Min = "1s", Max = "30d")]
    public TimeSpan AgeThreshold { get; set; } = TimeSpan.FromMinutes(15);
}
