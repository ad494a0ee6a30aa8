using System.Diagnostics;

namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>
/// Seconds since a run's clients started, shared by the sampler and the child-process watchers.
/// Before <see cref="Restart"/> it counts from its creation.
/// </summary>
internal sealed class RunClock
{
    private long _startTimestamp = Stopwatch.GetTimestamp();

    public double ElapsedSeconds => Stopwatch.GetElapsedTime(Interlocked.Read(ref _startTimestamp)).TotalSeconds;

    /// <summary>Makes now the zero point.</summary>
    public void Restart() => Interlocked.Exchange(ref _startTimestamp, Stopwatch.GetTimestamp());
}
