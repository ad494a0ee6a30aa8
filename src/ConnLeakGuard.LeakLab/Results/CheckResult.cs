namespace ConnLeakGuard.LeakLab.Results;

/// <summary>One pass/fail condition on a run, with the expected and the measured value in words.</summary>
/// <param name="Name">A stable identifier such as <c>guarded.upstream_connections_within_cap</c>.</param>
/// <param name="Run">The run the condition is about: <c>unguarded</c> or <c>guarded</c>.</param>
/// <param name="Passed">True when the measured value meets the expectation.</param>
/// <param name="Expected">The condition, such as <c>&lt;= 16</c>.</param>
/// <param name="Actual">The measured value.</param>
internal sealed record CheckResult(string Name, string Run, bool Passed, string Expected, string Actual);
