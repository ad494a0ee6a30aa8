namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Collects the outcome and latency of every healthy request, and the same per one-second window
/// for the live view and the samples.
/// </summary>
internal sealed class HealthyRequestRecorder
{
    private readonly Lock _gate = new();
    private readonly List<double> _latenciesMilliseconds = [];
    private readonly Dictionary<string, long> _failureReasons = new(StringComparer.Ordinal);
    private readonly List<double> _windowLatencies = [];
    private long _succeeded;
    private long _failed;
    private long _windowSucceeded;
    private long _windowFailed;

    public void RecordSuccess(TimeSpan latency)
    {
        lock (_gate)
        {
            _succeeded++;
            _windowSucceeded++;
            _latenciesMilliseconds.Add(latency.TotalMilliseconds);
            _windowLatencies.Add(latency.TotalMilliseconds);
        }
    }

    public void RecordFailure(string reason, TimeSpan latency)
    {
        lock (_gate)
        {
            _failed++;
            _windowFailed++;
            _latenciesMilliseconds.Add(latency.TotalMilliseconds);
            _windowLatencies.Add(latency.TotalMilliseconds);
            _failureReasons[reason] = _failureReasons.GetValueOrDefault(reason) + 1;
        }
    }

    /// <summary>Returns the requests completed since the previous call and starts a new window.</summary>
    public HealthyWindow TakeWindow()
    {
        lock (_gate)
        {
            var window = new HealthyWindow(
                _windowSucceeded,
                _windowFailed,
                Percentile(_windowLatencies, 50),
                Percentile(_windowLatencies, 99));
            _windowSucceeded = 0;
            _windowFailed = 0;
            _windowLatencies.Clear();
            return window;
        }
    }

    public HealthySummary Summarize()
    {
        lock (_gate)
        {
            long total = _succeeded + _failed;
            return new HealthySummary(
                Completed: total,
                Succeeded: _succeeded,
                Failed: _failed,
                SuccessRatePercent: total == 0 ? 0 : 100.0 * _succeeded / total,
                P50Milliseconds: Percentile(_latenciesMilliseconds, 50),
                P95Milliseconds: Percentile(_latenciesMilliseconds, 95),
                P99Milliseconds: Percentile(_latenciesMilliseconds, 99),
                MaxMilliseconds: _latenciesMilliseconds.Count == 0 ? null : _latenciesMilliseconds.Max(),
                FailureReasons: new SortedDictionary<string, long>(_failureReasons, StringComparer.Ordinal));
        }
    }

    // Nearest-rank percentile; null when there is nothing to rank.
    private static double? Percentile(List<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return null;
        }

        double[] sorted = [.. values];
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
