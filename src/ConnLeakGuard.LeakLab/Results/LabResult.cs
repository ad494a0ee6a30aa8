namespace ConnLeakGuard.LeakLab.Results;

/// <summary>
/// The JSON result file: both runs of one scenario, the conditions checked on them, and where the
/// files are. <see cref="Passed"/> is true when every check on the guarded run passed, and decides
/// LeakLab's exit code.
/// </summary>
internal sealed record LabResult(
    string Scenario,
    string Description,
    DateTimeOffset StartedAt,
    string Machine,
    LabSettings Settings,
    string? GuardDll,
    string? GuardConfigPath,
    RunResult? Unguarded,
    RunResult? Guarded,
    IReadOnlyList<CheckResult> Checks,
    bool Passed,
    string OutputDirectory,
    string? ChartPath);
