using ConnLeakGuard.Configuration;
using ConnLeakGuard.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Measures every open connection once per <see cref="Period"/>: records inbound byte progress for the idle
/// times of <see cref="ConnectionTable"/>, publishes the suspected-leak counts to
/// <c>connleakguard.connections.suspected_leaks</c>, and logs each new suspect once.
/// </summary>
/// <remarks>
/// A sweep allocates only for new suspects and for the list of outbound connections, so its cost grows with
/// the open connections, not with the request rate. A suspect is logged once in its connection's life, even if
/// it recovers and stalls again; <c>/debug/leaks</c> always shows the current suspects.
/// </remarks>
internal sealed class LeakMonitor : BackgroundService
{
    /// <summary>Sweep interval: the lateness bound of the gauge and of the first log line of a suspect.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    // Suppressed suspect log lines are summarised every this many sweeps (10 s).
    private const int SuppressedSummaryEvery = 10;

    private readonly ConnectionTable _table;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly ConnectionMetrics _metrics;
    private readonly AdminEventLog _log;

    public LeakMonitor(ConnectionTable table, IOptionsMonitor<GuardOptions> options, ConnectionMetrics metrics, AdminEventLog log)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(log);

        _table = table;
        _options = options;
        _metrics = metrics;
        _log = log;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, _table.Time);
        var sweeps = 0;

        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                Sweep();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed sweep must not stop the host, which is what an exception leaving a background
                // service does; the next sweep starts from scratch.
                _log.SweepFailed(ex);
            }

            if (++sweeps % SuppressedSummaryEvery == 0)
            {
                _log.FlushSuppressedLeaks();
            }
        }
    }

    /// <summary>Measures every open connection once and publishes the suspect counts.</summary>
    internal void Sweep()
    {
        var thresholds = _options.CurrentValue.LeakDetection;
        var now = _table.Time.GetTimestamp();
        var counts = new int[ConnectionStates.All.Count];

        foreach (var connection in _table.Inbound)
        {
            ConnectionTable.ObserveProgress(connection, now);
            var measure = _table.Measure(connection, now);
            if (LeakCriteria.Evaluate(measure, thresholds) is not { } reason)
            {
                continue;
            }

            counts[ConnectionStates.IndexOf(ConnectionSides.Inbound, measure.State)]++;
            if (!connection.LeakLogged)
            {
                connection.LeakLogged = true;
                _log.SuspectedLeak(ConnectionTable.ToRow(connection, measure, reason));
            }
        }

        foreach (var connection in _table.Outbound)
        {
            var measure = _table.Measure(connection, now);
            if (LeakCriteria.Evaluate(measure, thresholds) is not { } reason)
            {
                continue;
            }

            counts[ConnectionStates.IndexOf(ConnectionSides.Outbound, measure.State)]++;
            if (!connection.LeakLogged)
            {
                connection.LeakLogged = true;
                _log.SuspectedLeak(ConnectionTable.ToRow(connection, measure, reason));
            }
        }

        _metrics.PublishSuspects(counts);
    }
}
