namespace ConnLeakGuard.LeakLab.Results;

/// <summary>The resolved options of a LeakLab invocation, in plain units for the JSON result: seconds, bytes, percent.</summary>
internal sealed record LabSettings(
    double DurationSeconds,
    double WarmupSeconds,
    double AfterKillSeconds,
    long UpstreamBudgetBytes,
    long UpstreamBufferBytes,
    double HealthyRequestsPerSecond,
    double HealthyTimeoutSeconds,
    int GuardMaxConnectionsPerHost,
    double GuardRequestHeadersTimeoutSeconds,
    double GuardKeepAliveTimeoutSeconds,
    double GuardMinDataRateGracePeriodSeconds,
    long GuardMemoryLimitBytes,
    long FlatToleranceBytes,
    double MinSuccessPercent,
    int PortBase);
