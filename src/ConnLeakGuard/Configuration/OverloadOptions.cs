namespace ConnLeakGuard.Configuration;

/// <summary>
/// Overload protection (section <c>ConnLeakGuard:Overload</c>): the thresholds at which the guard sheds
/// load before the container memory limit or the file-descriptor limit stops it. Each threshold is a share
/// of the limit. docs/overload.md describes the actions at each level.
/// </summary>
internal sealed class OverloadOptions
{
    /// <summary>
    /// Time between two readings of the memory and descriptor signals. Default 1 s: a reading costs three
    /// small file reads and one directory listing, and a connection flood needs seconds, not milliseconds,
    /// to fill a container's memory.
    /// </summary>
    [Setting(Min = "50ms", Max = "1m")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Mount point of the cgroup file system. Default <c>/sys/fs/cgroup</c>, where container runtimes mount
    /// it. Tests point it at a folder of fake <c>memory.max</c>, <c>memory.current</c> and <c>memory.stat</c> files.
    /// </summary>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// Mount point of procfs, read for <c>self/fd</c>, <c>self/limits</c> and <c>self/cgroup</c>. Default <c>/proc</c>.
    /// </summary>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>
    /// Memory share of the container limit at which timeouts are scaled down. Default 70%: the idle guard
    /// uses well under half of the 256 MiB limit in the shipped manifests, so only real growth reaches it.
    /// </summary>
    [Setting(Min = "1%", Max = "100%")]
    public double MemoryElevated { get; set; } = 0.70;

    /// <summary>Memory share at which idle connections are closed. Default 80%.</summary>
    [Setting(Min = "1%", Max = "100%")]
    public double MemoryHigh { get; set; } = 0.80;

    /// <summary>
    /// Memory share at which new connections are rejected. Default 90%: the kernel kills the container at
    /// 100%, and the last tenth is left for in-flight requests and for the garbage collector to run.
    /// </summary>
    [Setting(Min = "1%", Max = "100%")]
    public double MemoryCritical { get; set; } = 0.90;

    /// <summary>
    /// Share of the open-files limit (<c>RLIMIT_NOFILE</c>) at which timeouts are scaled down. Default 70%.
    /// </summary>
    [Setting(Min = "1%", Max = "100%")]
    public double FileDescriptorsElevated { get; set; } = 0.70;

    /// <summary>Descriptor share at which idle connections are closed. Default 85%.</summary>
    [Setting(Min = "1%", Max = "100%")]
    public double FileDescriptorsHigh { get; set; } = 0.85;

    /// <summary>
    /// Descriptor share at which new connections are rejected. Default 95%: running out of descriptors
    /// fails accepts and upstream connects but does not kill the pod, so the guard sheds later than for
    /// memory. The last 5% keeps upstream connects and log writes working.
    /// </summary>
    [Setting(Min = "1%", Max = "100%")]
    public double FileDescriptorsCritical { get; set; } = 0.95;

    /// <summary>
    /// Distance below a level's threshold that a signal must fall before the level drops. Default 5
    /// percentage points, so that a signal hovering at a threshold does not switch the level back and forth.
    /// </summary>
    [Setting(Min = "0%", Max = "50%")]
    public double RecoveryMargin { get; set; } = 0.05;

    /// <summary>
    /// Time the signal must stay below the threshold minus the margin before the level drops. Default 10 s:
    /// the readiness probe in the shipped manifests needs two failures 5 s apart to see a critical level,
    /// and a garbage collection needs time to return the memory of the closed connections.
    /// </summary>
    [Setting(Min = "0s", Max = "10m")]
    public TimeSpan RecoveryHoldTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Factor applied to the keep-alive, request headers and pooled upstream idle timeouts from level
    /// Elevated on. Default 25%: the default 75 s keep-alive timeout becomes about 19 s and the 10 s headers
    /// timeout 2.5 s, which still serves a client on a slow link.
    /// </summary>
    [Setting(Min = "1%", Max = "100%")]
    public double TimeoutScale { get; set; } = 0.25;

    /// <summary>Returns the problems with the thresholds' order: each level's threshold must exceed the one below it.</summary>
    public IEnumerable<ConfigurationProblem> CheckThresholdOrder()
    {
        const string prefix = "ConnLeakGuard:Overload:";

        foreach (var (lowerKey, lower, upperKey, upper) in new[]
        {
            (nameof(MemoryElevated), MemoryElevated, nameof(MemoryHigh), MemoryHigh),
            (nameof(MemoryHigh), MemoryHigh, nameof(MemoryCritical), MemoryCritical),
            (nameof(FileDescriptorsElevated), FileDescriptorsElevated, nameof(FileDescriptorsHigh), FileDescriptorsHigh),
            (nameof(FileDescriptorsHigh), FileDescriptorsHigh, nameof(FileDescriptorsCritical), FileDescriptorsCritical),
        })
        {
            if (upper <= lower)
            {
                yield return new ConfigurationProblem(
                    prefix + upperKey,
                    GuardOptionsBinder.FormatValue(upper),
                    $"must exceed {prefix}{lowerKey} ({GuardOptionsBinder.FormatValue(lower)})");
            }
        }
    }
}
