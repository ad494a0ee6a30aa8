namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>How and when a child process ended, in seconds since the run started.</summary>
internal sealed record ChildExit(int ExitCode, double AtSeconds);
