using System.Threading.RateLimiting;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Bounds how many lines per second a source of repeated events may log, so that an attack or an outage
/// cannot flood the log. Events over the rate are counted; <see cref="TakeSuppressed"/> returns the count for
/// a summary line.
/// </summary>
internal sealed class LogRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter _limiter;
    private long _suppressed;

    /// <param name="eventsPerSecond">Sustained rate; bursts of twice this are allowed.</param>
    public LogRateLimiter(int eventsPerSecond)
    {
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = eventsPerSecond * 2,
            TokensPerPeriod = eventsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>Returns true when the event may be logged; otherwise counts it as suppressed.</summary>
    public bool TryAcquire()
    {
        using var lease = _limiter.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        return false;
    }

    /// <summary>Returns and resets the number of suppressed events.</summary>
    public long TakeSuppressed() => Interlocked.Exchange(ref _suppressed, 0);

    /// <inheritdoc />
    public void Dispose() => _limiter.Dispose();
}
