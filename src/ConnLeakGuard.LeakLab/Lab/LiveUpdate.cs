using ConnLeakGuard.LeakLab.Results;

namespace ConnLeakGuard.LeakLab.Lab;

/// <summary>
/// A new sample of a run in progress, for the live view, with the planned run length in seconds and
/// a few words on the run's state, such as <c>under attack</c> or <c>upstream died (exit 137) at 38.2 s</c>.
/// </summary>
internal sealed record LiveUpdate(RunMode Mode, Sample Sample, double PlannedSeconds, string Status);
