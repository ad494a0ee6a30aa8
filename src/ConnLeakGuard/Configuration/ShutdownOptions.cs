namespace ConnLeakGuard.Configuration;

/// <summary>
/// Graceful shutdown timings (section <c>ConnLeakGuard:Shutdown</c>). DrainDelay + DrainTimeout must stay
/// below Kubernetes' <c>terminationGracePeriodSeconds</c> (30 s by default) with a few seconds to spare.
/// </summary>
internal sealed class ShutdownOptions
{
    /// <summary>
    /// Time the guard keeps accepting after SIGTERM while readiness fails. Default 5 s: Kubernetes removes
    /// the pod from Service endpoints asynchronously, and a few seconds covers typical propagation.
    /// </summary>
    [Setting(Min = "0s", Max = "5m")]
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time in-flight requests get to finish once accepting stops; then they are aborted. Default 20 s, so
    /// that 5 s + 20 s fits within the default 30 s grace period.
    /// </summary>
    [Setting(Min = "0s", Max = "1h")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
