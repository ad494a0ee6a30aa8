using System.Globalization;
using ConnLeakGuard.LeakLab.Cli;
using ConnLeakGuard.LeakLab.Lab;

namespace ConnLeakGuard.LeakLab.Results;

/// <summary>
/// Evaluates the conditions that LeakLab reports. The guarded ones decide the exit code; the
/// unguarded ones show that the scenario really hurts an unprotected upstream.
/// </summary>
internal static class CheckEvaluator
{
    public const string UnguardedRun = "unguarded";
    public const string GuardedRun = "guarded";

    public static IReadOnlyList<CheckResult> Evaluate(LabOptions options, RunResult? unguarded, RunResult? guarded)
    {
        ArgumentNullException.ThrowIfNull(options);

        var checks = new List<CheckResult>();
        if (unguarded is not null)
        {
            checks.AddRange(EvaluateUnguarded(options, unguarded));
        }

        if (guarded is not null)
        {
            checks.AddRange(EvaluateGuarded(options, guarded));
        }

        return checks;
    }

    private static IEnumerable<CheckResult> EvaluateUnguarded(LabOptions options, RunResult run)
    {
        UpstreamSummary upstream = run.Upstream;
        int cap = options.GuardLimits.MaxConnectionsPerHost;

        yield return new CheckResult(
            "unguarded.upstream_killed_by_budget",
            UnguardedRun,
            upstream.KilledByBudget,
            "budget kill, exit code 137",
            upstream.KilledByBudget
                ? Invariant($"killed at {upstream.ExitedAtSeconds:0.0} s holding {upstream.ConnectionsAtKill} connections")
                : Invariant($"still alive (peak {Mebibytes(upstream.PeakResidentBytes)} of {Mebibytes(options.UpstreamBudgetBytes)})"));

        yield return new CheckResult(
            "unguarded.upstream_connections_grew",
            UnguardedRun,
            upstream.PeakConnections > cap,
            Invariant($"> {cap} (the guard's per-host cap)"),
            Invariant($"peak {upstream.PeakConnections}"));
    }

    private static IEnumerable<CheckResult> EvaluateGuarded(LabOptions options, RunResult run)
    {
        UpstreamSummary upstream = run.Upstream;
        GuardSummary? guard = run.Guard;
        int cap = options.GuardLimits.MaxConnectionsPerHost;

        yield return new CheckResult(
            "guarded.guard_ran",
            GuardedRun,
            run.Error is null && guard is not null && !guard.ExitedEarly,
            "guard started and ran to the end",
            run.Error ?? "ran to the end");

        yield return new CheckResult(
            "guarded.upstream_survived",
            GuardedRun,
            run.Error is null && upstream.ExitCode is null && run.Samples.Count > 0,
            "upstream alive at the end",
            upstream.ExitCode is null ? "alive" : Invariant($"exited with code {upstream.ExitCode} at {upstream.ExitedAtSeconds:0.0} s"));

        yield return new CheckResult(
            "guarded.upstream_connections_within_cap",
            GuardedRun,
            run.Samples.Count > 0 && upstream.PeakConnections <= cap,
            Invariant($"<= {cap}"),
            Invariant($"peak {upstream.PeakConnections}"));

        long? growth = upstream.PeakResidentBytes - upstream.BaselineResidentBytes;
        yield return new CheckResult(
            "guarded.upstream_memory_flat",
            GuardedRun,
            growth is not null && growth <= options.FlatToleranceBytes,
            Invariant($"rise <= {Mebibytes(options.FlatToleranceBytes)} over warm-up"),
            growth is null
                ? "not measured"
                : Invariant($"{Mebibytes(upstream.BaselineResidentBytes)} -> {Mebibytes(upstream.PeakResidentBytes)} (+{Mebibytes(growth)})"));

        yield return HealthyCheck(options, run);

        yield return new CheckResult(
            "guarded.guard_memory_bounded",
            GuardedRun,
            guard?.PeakResidentBytes is not null && guard.PeakResidentBytes <= options.GuardMemoryLimitBytes,
            Invariant($"peak <= {Mebibytes(options.GuardMemoryLimitBytes)}"),
            guard?.PeakResidentBytes is null ? "not measured" : Invariant($"peak {Mebibytes(guard.PeakResidentBytes)}"));
    }

    private static CheckResult HealthyCheck(LabOptions options, RunResult run)
    {
        Clients.HealthySummary healthy = run.Healthy;
        return new CheckResult(
            "guarded.healthy_success_rate",
            GuardedRun,
            healthy.Completed > 0 && healthy.SuccessRatePercent >= options.MinSuccessPercent,
            Invariant($">= {options.MinSuccessPercent:0.0##} %"),
            Invariant($"{healthy.SuccessRatePercent:0.00} % ({healthy.Failed} of {healthy.Completed} failed)"));
    }

    private static string Mebibytes(long? bytes) => bytes is null ? "n/a" : UnitParser.FormatMebibytes(bytes.Value);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
