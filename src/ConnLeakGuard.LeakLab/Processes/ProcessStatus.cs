namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>
/// Memory and thread figures of one process as Linux reports them in <c>/proc/PID/status</c>.
/// </summary>
/// <param name="ResidentBytes">VmRSS: resident set size now.</param>
/// <param name="PeakResidentBytes">VmHWM: the highest resident set size since the process started.</param>
/// <param name="Threads">Threads: the number of threads.</param>
internal sealed record ProcessStatus(long ResidentBytes, long PeakResidentBytes, int Threads);
