using System.Globalization;
using System.Net;
using ConnLeakGuard.LeakLab.Clients;
using ConnLeakGuard.LeakLab.Guard;
using ConnLeakGuard.LeakLab.Processes;
using ConnLeakGuard.LeakLab.Results;
using ConnLeakGuard.LeakLab.Scenarios;
using ConnLeakGuard.LeakLab.Upstream;

namespace ConnLeakGuard.LeakLab.Lab;

/// <summary>
/// Carries out one run of a scenario: starts the upstream (and the guard), runs the healthy client
/// throughout and the misbehaving clients after the warm-up, samples every second, and stops at the
/// planned duration or shortly after the upstream dies.
/// </summary>
internal sealed class ScenarioRun
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    private readonly LabOptions _options;
    private readonly RunMode _mode;
    private readonly string? _guardDll;
    private readonly string? _guardConfigPath;
    private readonly Action<LiveUpdate> _onUpdate;

    public ScenarioRun(LabOptions options, RunMode mode, string? guardDll, string? guardConfigPath, Action<LiveUpdate> onUpdate)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onUpdate);

        _options = options;
        _mode = mode;
        _guardDll = guardDll;
        _guardConfigPath = guardConfigPath;
        _onUpdate = onUpdate;
    }

    public static string ModeName(RunMode mode) => mode == RunMode.Guarded ? "guarded" : "unguarded";

    public static GuardEndpoints GuardEndpointsFor(LabOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new GuardEndpoints(
            new IPEndPoint(LoopbackAddresses.Server, options.GuardInboundPort),
            new IPEndPoint(LoopbackAddresses.Server, options.GuardAdminPort),
            new IPEndPoint(LoopbackAddresses.Server, options.GuardedUpstreamPort));
    }

    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        string modeName = ModeName(_mode);
        bool guarded = _mode == RunMode.Guarded;
        int upstreamPort = guarded ? _options.GuardedUpstreamPort : _options.UnguardedUpstreamPort;
        GuardEndpoints endpoints = GuardEndpointsFor(_options);
        var upstreamEndpoint = new IPEndPoint(LoopbackAddresses.Server, upstreamPort);
        IPEndPoint target = guarded ? endpoints.Inbound : upstreamEndpoint;
        string upstreamLog = Path.Combine(_options.OutputDirectory, $"{modeName}-upstream.log");
        string guardLog = Path.Combine(_options.OutputDirectory, "guard.log");

        var clock = new RunClock();
        await using UpstreamProcess upstream = await UpstreamProcess.StartAsync(
            upstreamPort, _options.UpstreamBufferBytes, _options.UpstreamBudgetBytes, upstreamLog, clock, cancellationToken);

        GuardProcess? guard = null;
        if (guarded)
        {
            try
            {
                if (_guardDll is null || _guardConfigPath is null)
                {
                    throw new InvalidOperationException("No guard binary is available for the guarded run.");
                }

                guard = await GuardProcess.StartAsync(_guardDll, _guardConfigPath, endpoints, guardLog, clock, cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or IOException or System.ComponentModel.Win32Exception)
            {
                return NotRun(_options, _mode, target.ToString(), exception.Message);
            }
        }

        try
        {
            return await RunClientsAsync(modeName, target, upstream, upstreamPort, guard, endpoints, guardLog, clock, cancellationToken);
        }
        finally
        {
            if (guard is not null)
            {
                await guard.DisposeAsync();
            }
        }
    }

    private async Task<RunResult> RunClientsAsync(
        string modeName,
        IPEndPoint target,
        UpstreamProcess upstream,
        int upstreamPort,
        GuardProcess? guard,
        GuardEndpoints endpoints,
        string guardLog,
        RunClock clock,
        CancellationToken cancellationToken)
    {
        using var guardMetrics = guard is null ? null : new GuardMetricsReader(endpoints);
        using var healthy = new HealthyClient(target, _options.HealthyRequestsPerSecond, _options.HealthyTimeout);
        List<HostileConnectionPool> pools = [.. _options.Loads.Select(load =>
            new HostileConnectionPool(load, HostileBehaviorFactory.Create(load.Kind), target, LoopbackAddresses.For(load.Kind)))];
        var sampler = new Sampler(clock, upstream, upstreamPort, guard, guardMetrics, endpoints.Inbound.Port, healthy, pools);

        using var stopClients = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        clock.Restart();
        Task healthyTask = healthy.RunAsync(stopClients.Token);
        List<Task> hostileTasks = [];
        var samples = new List<Sample>();
        double hostileStart = _options.Warmup.TotalSeconds;
        double planned = _options.Duration.TotalSeconds;

        using var timer = new PeriodicTimer(SampleInterval);
        try
        {
            while (await NextTickAsync(timer, cancellationToken))
            {
                if (hostileTasks.Count == 0 && clock.ElapsedSeconds >= hostileStart)
                {
                    hostileTasks.AddRange(pools.Select(pool => pool.RunAsync(stopClients.Token)));
                }

                Sample sample = await sampler.TakeAsync(CancellationToken.None);
                samples.Add(sample);

                (bool stop, string status) = Decide(sample.Seconds, hostileTasks.Count > 0, upstream.Exit, guard?.Exit);
                _onUpdate(new LiveUpdate(_mode, sample, planned, status));
                if (stop)
                {
                    break;
                }
            }
        }
        finally
        {
            await stopClients.CancelAsync();
            await Task.WhenAll(hostileTasks.Append(healthyTask));
        }

        // Read the exits before stopping the processes, so that LeakLab's own kill is not mistaken for one.
        double duration = samples.Count == 0 ? 0 : samples[^1].Seconds;
        ChildExit? upstreamExit = upstream.Exit;
        ChildExit? guardExit = guard?.Exit;
        await upstream.StopAsync();

        UpstreamSummary upstreamSummary = SummarizeUpstream(upstream, upstreamExit, samples, sampler.UpstreamPeakResidentBytes, hostileStart);
        GuardSummary? guardSummary = guard is null
            ? null
            : SummarizeGuard(samples, sampler.GuardPeakResidentBytes, guardExit, hostileStart, guardLog);

        return new RunResult(
            modeName,
            target.ToString(),
            guardExit is null ? null : string.Create(CultureInfo.InvariantCulture, $"The guard exited with code {guardExit.ExitCode} during the run; see {guardLog}."),
            duration,
            hostileStart,
            upstreamSummary,
            guardSummary,
            healthy.Recorder.Summarize(),
            [.. pools.Select(Summarize)],
            samples);
    }

    // Returns false when the user cancelled (Ctrl+C): the run then ends early but is still summarized.
    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // Stops at the planned duration, a few seconds after the upstream died (so the chart shows the
    // aftermath), or as soon as the guard died (the guarded run cannot go on without it).
    private (bool Stop, string Status) Decide(double seconds, bool hostileStarted, ChildExit? upstreamExit, ChildExit? guardExit)
    {
        if (guardExit is not null)
        {
            return (true, string.Create(CultureInfo.InvariantCulture, $"guard exited (code {guardExit.ExitCode}) at {guardExit.AtSeconds:0.0} s"));
        }

        if (upstreamExit is not null)
        {
            string status = string.Create(CultureInfo.InvariantCulture, $"upstream died (exit {upstreamExit.ExitCode}) at {upstreamExit.AtSeconds:0.0} s");
            return (seconds >= upstreamExit.AtSeconds + _options.AfterKill.TotalSeconds || seconds >= _options.Duration.TotalSeconds, status);
        }

        return (seconds >= _options.Duration.TotalSeconds, hostileStarted ? "under attack" : "warm-up");
    }

    private static UpstreamSummary SummarizeUpstream(
        UpstreamProcess upstream, ChildExit? exit, List<Sample> samples, long peakHighWater, double hostileStart)
    {
        UpstreamStatus? atKill = upstream.BudgetExceeded;
        bool killedByBudget = atKill is not null && exit?.ExitCode == UpstreamProtocol.OomKillExitCode;

        long? peakResident = Max(samples.Select(sample => sample.UpstreamResidentBytes), peakHighWater, atKill?.ResidentBytes);
        int peakConnections = Math.Max(
            upstream.PeakReportedConnections,
            samples.Select(sample => sample.UpstreamConnections ?? 0).DefaultIfEmpty(0).Max());

        return new UpstreamSummary(
            BaselineResidentBytes: Baseline(samples, hostileStart, sample => sample.UpstreamResidentBytes),
            PeakResidentBytes: peakResident,
            PeakManagedBytes: samples.Select(sample => sample.UpstreamManagedBytes).Max(),
            PeakThreads: samples.Select(sample => sample.UpstreamThreads).Max(),
            PeakConnections: Math.Max(peakConnections, atKill?.OpenConnections ?? 0),
            PeakSockets: samples.Select(sample => sample.UpstreamSockets ?? 0).DefaultIfEmpty(0).Max(),
            KilledByBudget: killedByBudget,
            ExitCode: exit?.ExitCode,
            ExitedAtSeconds: exit is null ? null : Math.Round(exit.AtSeconds, 2),
            ConnectionsAtKill: atKill?.OpenConnections,
            ResidentBytesAtKill: atKill?.ResidentBytes);
    }

    private static GuardSummary SummarizeGuard(List<Sample> samples, long peakHighWater, ChildExit? exit, double hostileStart, string logPath) =>
        new(
            BaselineResidentBytes: Baseline(samples, hostileStart, sample => sample.GuardResidentBytes),
            PeakResidentBytes: Max(samples.Select(sample => sample.GuardResidentBytes), peakHighWater, null),
            PeakThreads: samples.Select(sample => sample.GuardThreads).Max(),
            PeakConnections: samples.Select(sample => sample.GuardConnections).Max(),
            PeakSockets: samples.Select(sample => sample.GuardSockets ?? 0).DefaultIfEmpty(0).Max(),
            ExitedEarly: exit is not null,
            ExitCode: exit?.ExitCode,
            LogPath: logPath);

    private static ClientSummary Summarize(HostileConnectionPool pool) =>
        new(
            ClientKindNames.ToName(pool.Kind),
            pool.Load.OpenPerSecond,
            pool.Load.MaxOpen,
            pool.Opened,
            pool.ConnectFailures,
            pool.ClosedByServer,
            pool.PeakOpen);

    // The last reading before the misbehaving clients started, or the first reading at all.
    private static long? Baseline(List<Sample> samples, double hostileStart, Func<Sample, long?> select)
    {
        long? baseline = samples.Where(sample => sample.Seconds < hostileStart).Select(select).LastOrDefault(value => value is not null);
        return baseline ?? samples.Select(select).FirstOrDefault(value => value is not null);
    }

    private static long? Max(IEnumerable<long?> sampled, long highWater, long? extra)
    {
        long? max = sampled.Max();
        if (highWater > 0)
        {
            max = Math.Max(max ?? 0, highWater);
        }

        if (extra is not null)
        {
            max = Math.Max(max ?? 0, extra.Value);
        }

        return max;
    }

    /// <summary>Creates the result of a run that could not be carried out, with the reason in <see cref="RunResult.Error"/>.</summary>
    public static RunResult NotRun(LabOptions options, RunMode mode, string target, string error)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RunResult(
            ModeName(mode),
            target,
            error,
            0,
            options.Warmup.TotalSeconds,
            new UpstreamSummary(null, null, null, null, 0, 0, false, null, null, null, null),
            null,
            new HealthySummary(0, 0, 0, 0, null, null, null, null, new Dictionary<string, long>()),
            [],
            []);
    }
}
