using System.Runtime.InteropServices;
using ConnLeakGuard.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Lifecycle;

/// <summary>
/// Replaces the console lifetime so that SIGTERM starts a drain instead of an immediate stop: readiness
/// fails at once, the guard keeps accepting for <c>ConnLeakGuard:Shutdown:DrainDelay</c> while Kubernetes
/// removes the pod from its endpoints, and only then does the host stop. Kestrel then stops accepting,
/// closes idle keep-alive connections (HTTP/1.1 between requests, HTTP/2 with GOAWAY), lets in-flight
/// requests finish within <c>ConnLeakGuard:Shutdown:DrainTimeout</c> and aborts the rest.
/// </summary>
/// <remarks>A second SIGTERM or SIGINT during the delay skips the rest of it.</remarks>
internal sealed partial class DrainingHostLifetime : IHostLifetime, IDisposable
{
    /// <summary>Readiness source name used while draining.</summary>
    public const string ReadinessSource = "shutdown";

    private readonly IHostApplicationLifetime _application;
    private readonly GuardReadiness _readiness;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DrainingHostLifetime> _logger;
    private readonly CancellationTokenSource _skipDelay = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signals;

    public DrainingHostLifetime(
        IHostApplicationLifetime application,
        GuardReadiness readiness,
        IOptionsMonitor<GuardOptions> options,
        TimeProvider time,
        ILogger<DrainingHostLifetime> logger)
    {
        _application = application;
        _readiness = readiness;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose()
    {
        _registrations.ForEach(r => r.Dispose());
        _skipDelay.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Cancelling the default handling keeps the process alive; the drain decides when it ends.
        context.Cancel = true;

        if (Interlocked.Increment(ref _signals) > 1)
        {
            LogDelaySkipped(_logger, context.Signal);
            _skipDelay.Cancel();
            return;
        }

        _ = DrainAsync(context.Signal);
    }

    private async Task DrainAsync(PosixSignal signal)
    {
        var shutdown = _options.CurrentValue.Shutdown;
        _readiness.SetNotReady(ReadinessSource, "draining for shutdown");
        LogDrainStarted(_logger, signal, shutdown.DrainDelay, shutdown.DrainTimeout);

        try
        {
            await Task.Delay(shutdown.DrainDelay, _time, _skipDelay.Token);
        }
        catch (OperationCanceledException)
        {
            // A second signal: stop now.
        }

        LogAcceptingStopped(_logger);
        _application.StopApplication();
    }

    [LoggerMessage(EventId = 10, EventName = "DrainStarted", Level = LogLevel.Information,
        Message = "{Signal} received: readiness fails now, new connections are accepted for {DrainDelay}, then in-flight requests get {DrainTimeout} to finish")]
    private static partial void LogDrainStarted(ILogger logger, PosixSignal signal, TimeSpan drainDelay, TimeSpan drainTimeout);

    [LoggerMessage(EventId = 11, EventName = "DrainAcceptingStopped", Level = LogLevel.Information,
        Message = "Drain delay over: no new connections; idle connections close and in-flight requests finish")]
    private static partial void LogAcceptingStopped(ILogger logger);

    [LoggerMessage(EventId = 12, EventName = "DrainDelaySkipped", Level = LogLevel.Warning,
        Message = "{Signal} received again during the drain delay: stopping now")]
    private static partial void LogDelaySkipped(ILogger logger, PosixSignal signal);
}
