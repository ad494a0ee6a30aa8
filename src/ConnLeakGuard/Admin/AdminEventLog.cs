using System.Net;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Log events of the connection table (event ids 5001 to 5099): admin closes, rejected admin actions,
/// suspected leaks and failed leak monitor sweeps. Suspected leaks are rate-limited to <see cref="LeakEventsPerSecond"/> lines per second;
/// the rest are counted and summarised by <see cref="FlushSuppressedLeaks"/>.
/// </summary>
internal sealed partial class AdminEventLog : IDisposable
{
    /// <summary>Sustained rate of suspected-leak lines: a pod with thousands of stalled connections logs a sample, and the gauge counts them all.</summary>
    public const int LeakEventsPerSecond = 5;

    private readonly ILogger<AdminEventLog> _logger;
    private readonly Telemetry.LogRateLimiter _leakLimiter = new(LeakEventsPerSecond);

    public AdminEventLog(ILogger<AdminEventLog> logger)
    {
        ArgumentNullException.ThrowIfNull(logger);

        _logger = logger;
    }

    /// <summary>Logs an admin close of the connection <paramref name="connectionId"/>.</summary>
    public void ConnectionClosed(string side, string connectionId, string action, IPAddress? client) =>
        LogConnectionClosed(_logger, side, connectionId, action, client);

    /// <summary>Logs a state-changing admin request rejected because the client is not on loopback.</summary>
    public void ActionRejected(string path, IPAddress? client) => LogActionRejected(_logger, path, client);

    /// <summary>Logs one suspected leak, unless the rate limit is reached.</summary>
    public void SuspectedLeak(ConnectionSnapshot row)
    {
        ArgumentNullException.ThrowIfNull(row);

        if (_leakLimiter.TryAcquire())
        {
            var remote = row.RemoteAddress is null ? null : $"{row.RemoteAddress}:{row.RemotePort}";
            LogSuspectedLeak(_logger, row.Side, row.Id, row.LeakReason, row.State, row.StateSeconds, row.IdleSeconds,
                row.AgeSeconds, remote, row.LocalPort, row.Cluster, row.Requests);
        }
    }

    /// <summary>Writes one summary line for the suspected leaks not logged since the last call, if any.</summary>
    public void FlushSuppressedLeaks()
    {
        var suppressed = _leakLimiter.TakeSuppressed();
        if (suppressed > 0)
        {
            LogLeaksSuppressed(_logger, suppressed);
        }
    }

    /// <summary>Logs a leak monitor sweep that failed with <paramref name="exception"/>.</summary>
    public void SweepFailed(Exception exception) => LogSweepFailed(_logger, exception);

    /// <inheritdoc />
    public void Dispose() => _leakLimiter.Dispose();

    [LoggerMessage(EventId = 5001, EventName = "AdminConnectionClosed", Level = LogLevel.Information,
        Message = "Admin request from {ClientAddress} closed {Side} connection {ConnectionId}: {Action}")]
    private static partial void LogConnectionClosed(ILogger logger, string side, string connectionId, string action, IPAddress? clientAddress);

    [LoggerMessage(EventId = 5002, EventName = "AdminActionRejected", Level = LogLevel.Warning,
        Message = "Admin request {Path} from {ClientAddress} rejected with 403: state-changing admin requests are accepted only from loopback unless ConnLeakGuard:Admin:AllowRemoteActions is true")]
    private static partial void LogActionRejected(ILogger logger, string path, IPAddress? clientAddress);

    [LoggerMessage(EventId = 5003, EventName = "SuspectedConnectionLeak", Level = LogLevel.Warning,
        Message = "Suspected connection leak ({LeakReason}): {Side} connection {ConnectionId} in state {State} for {StateSeconds} s, idle {IdleSeconds} s, age {AgeSeconds} s, remote {RemoteAddress}, local port {LocalPort}, cluster {Cluster}, {Requests} requests")]
    private static partial void LogSuspectedLeak(ILogger logger, string side, string connectionId, string? leakReason, string state, double stateSeconds,
        double idleSeconds, double ageSeconds, string? remoteAddress, int localPort, string? cluster, long requests);

    [LoggerMessage(EventId = 5004, EventName = "SuspectedLeaksSuppressed", Level = LogLevel.Warning,
        Message = "{Count} further suspected connection leaks were not logged because of the log rate limit; /debug/leaks lists them and connleakguard_connections_suspected_leaks counts them")]
    private static partial void LogLeaksSuppressed(ILogger logger, long count);

    [LoggerMessage(EventId = 5005, EventName = "LeakSweepFailed", Level = LogLevel.Error,
        Message = "The leak monitor's sweep failed; the suspected-leak gauge keeps its previous value until a sweep succeeds")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
