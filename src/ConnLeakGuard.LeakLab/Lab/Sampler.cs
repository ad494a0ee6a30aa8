using ConnLeakGuard.LeakLab.Clients;
using ConnLeakGuard.LeakLab.Guard;
using ConnLeakGuard.LeakLab.Processes;
using ConnLeakGuard.LeakLab.Results;
using ConnLeakGuard.LeakLab.Upstream;

namespace ConnLeakGuard.LeakLab.Lab;

/// <summary>Takes one <see cref="Sample"/> of every process and client of a run.</summary>
internal sealed class Sampler
{
    private readonly RunClock _clock;
    private readonly UpstreamProcess _upstream;
    private readonly int _upstreamPort;
    private readonly GuardProcess? _guard;
    private readonly GuardMetricsReader? _guardMetrics;
    private readonly int _guardPort;
    private readonly HealthyClient _healthy;
    private readonly IReadOnlyList<HostileConnectionPool> _pools;

    public Sampler(
        RunClock clock,
        UpstreamProcess upstream,
        int upstreamPort,
        GuardProcess? guard,
        GuardMetricsReader? guardMetrics,
        int guardPort,
        HealthyClient healthy,
        IReadOnlyList<HostileConnectionPool> pools)
    {
        _clock = clock;
        _upstream = upstream;
        _upstreamPort = upstreamPort;
        _guard = guard;
        _guardMetrics = guardMetrics;
        _guardPort = guardPort;
        _healthy = healthy;
        _pools = pools;
    }

    /// <summary>The highest VmHWM read from the upstream, which catches peaks between samples.</summary>
    public long UpstreamPeakResidentBytes { get; private set; }

    /// <summary>The highest VmHWM read from the guard.</summary>
    public long GuardPeakResidentBytes { get; private set; }

    public async Task<Sample> TakeAsync(CancellationToken cancellationToken)
    {
        double seconds = _clock.ElapsedSeconds;

        bool upstreamAlive = _upstream.Exit is null;
        UpstreamStatus? status = upstreamAlive ? _upstream.LatestStatus : null;
        ProcessStatus? upstreamProcess = upstreamAlive ? ProcessStatusReader.TryRead(_upstream.ProcessId) : null;
        IReadOnlyDictionary<int, int>? sockets = TcpSocketTable.CountServerConnections(_upstreamPort, _guardPort);
        if (upstreamProcess is not null)
        {
            UpstreamPeakResidentBytes = Math.Max(UpstreamPeakResidentBytes, upstreamProcess.PeakResidentBytes);
        }

        int? guardConnections = null;
        int? guardSockets = null;
        ProcessStatus? guardProcess = null;
        if (_guard is not null && _guard.Exit is null)
        {
            guardProcess = ProcessStatusReader.TryRead(_guard.ProcessId);
            guardSockets = sockets?[_guardPort];
            guardConnections = _guardMetrics is null ? null : await _guardMetrics.ReadInboundConnectionsAsync(cancellationToken);
            if (guardProcess is not null)
            {
                GuardPeakResidentBytes = Math.Max(GuardPeakResidentBytes, guardProcess.PeakResidentBytes);
            }
        }

        HealthyWindow healthy = _healthy.Recorder.TakeWindow();

        return new Sample(
            Seconds: Math.Round(seconds, 2),
            UpstreamConnections: status?.OpenConnections,
            UpstreamSockets: upstreamAlive ? sockets?[_upstreamPort] : null,
            UpstreamResidentBytes: upstreamProcess?.ResidentBytes,
            UpstreamManagedBytes: status?.ManagedBytes,
            UpstreamThreads: upstreamProcess?.Threads,
            GuardConnections: guardConnections,
            GuardSockets: guardSockets,
            GuardResidentBytes: guardProcess?.ResidentBytes,
            GuardThreads: guardProcess?.Threads,
            HealthySucceeded: healthy.Succeeded,
            HealthyFailed: healthy.Failed,
            HealthyP50Milliseconds: Round(healthy.P50Milliseconds),
            HealthyP99Milliseconds: Round(healthy.P99Milliseconds),
            HostileOpen: _pools.Sum(pool => pool.Open));
    }

    private static double? Round(double? value) => value is null ? null : Math.Round(value.Value, 2);
}
