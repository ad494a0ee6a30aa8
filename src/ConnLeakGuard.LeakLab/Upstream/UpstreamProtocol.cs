namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>
/// Prefixes of the lines that the upstream child writes on its standard output for LeakLab to read.
/// Each prefix is followed by one space and a JSON <see cref="UpstreamStatus"/>, except
/// <see cref="Listening"/>, which is followed by the bound endpoint.
/// </summary>
internal static class UpstreamProtocol
{
    /// <summary>The listener is bound and accepting connections.</summary>
    public const string Listening = "LISTENING";

    /// <summary>A periodic status report.</summary>
    public const string Status = "STATUS";

    /// <summary>The memory budget was crossed; the process kills itself with SIGKILL right after this line.</summary>
    public const string BudgetExceeded = "OOM";

    /// <summary>The exit code a process gets when SIGKILL ends it (128 + 9), as after a kernel or cgroup OOM kill.</summary>
    public const int OomKillExitCode = 137;
}
