using ConnLeakGuard.LeakLab.Guard;
using ConnLeakGuard.LeakLab.Scenarios;

namespace ConnLeakGuard.LeakLab.Lab;

/// <summary>Everything one LeakLab invocation needs, resolved from the scenario and the command line.</summary>
internal sealed record LabOptions(
    Scenario Scenario,
    IReadOnlyList<ClientLoad> Loads,
    IReadOnlyList<RunMode> Modes,
    TimeSpan Duration,
    TimeSpan Warmup,
    TimeSpan AfterKill,
    long UpstreamBudgetBytes,
    long UpstreamBufferBytes,
    double HealthyRequestsPerSecond,
    TimeSpan HealthyTimeout,
    GuardLimits GuardLimits,
    long GuardMemoryLimitBytes,
    long FlatToleranceBytes,
    double MinSuccessPercent,
    int PortBase,
    string OutputDirectory,
    string? GuardDll,
    bool BuildGuard)
{
    /// <summary>The number of loopback ports used from <see cref="PortBase"/> on.</summary>
    public const int PortCount = 4;

    public int UnguardedUpstreamPort => PortBase;

    public int GuardedUpstreamPort => PortBase + 1;

    public int GuardInboundPort => PortBase + 2;

    public int GuardAdminPort => PortBase + 3;
}
