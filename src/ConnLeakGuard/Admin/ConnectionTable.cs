using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using ConnLeakGuard.Outbound;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Reads the open connections of both sides from their registries and derives each one's state and timings.
/// Reading takes no lock on a connection's state, so requests never wait for it. Listing the upstream
/// connections briefly locks the registry's dictionary, which only connection opens and closes use.
/// </summary>
/// <remarks>
/// Idle time is the time since the connection last made progress. Outbound that is the last read or write of
/// at least one byte. Inbound, between requests, it is the time since the previous request ended (or since
/// the accept); during a request it is the time since the later of the request's start and the last change
/// of the body byte counters seen by <see cref="LeakMonitor"/>, which samples them once per second, because
/// a timestamp per body read or write would cost every request more than a field increment.
/// </remarks>
internal sealed class ConnectionTable
{
    private readonly InboundConnectionRegistry _inbound;
    private readonly OutboundPoolRegistry _outbound;
    private readonly TimeProvider _time;

    public ConnectionTable(InboundConnectionRegistry inbound, OutboundPoolRegistry outbound, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(inbound);
        ArgumentNullException.ThrowIfNull(outbound);
        ArgumentNullException.ThrowIfNull(time);

        _inbound = inbound;
        _outbound = outbound;
        _time = time;
    }

    /// <summary>The clock of every timestamp the table reads.</summary>
    public TimeProvider Time => _time;

    /// <summary>The open client connections.</summary>
    public IEnumerable<InboundConnection> Inbound => _inbound.Snapshot();

    /// <summary>The open upstream connections, without those whose close has started.</summary>
    public IEnumerable<OutboundConnectionStream> Outbound => _outbound.Connections.Where(static c => !c.IsClosing);

    /// <summary>Returns every open connection as a row, unsorted.</summary>
    public List<ConnectionSnapshot> Capture()
    {
        var now = _time.GetTimestamp();
        var rows = new List<ConnectionSnapshot>(_inbound.Count);
        foreach (var connection in Inbound)
        {
            rows.Add(ToRow(connection, Measure(connection, now)));
        }

        foreach (var connection in Outbound)
        {
            rows.Add(ToRow(connection, Measure(connection, now)));
        }

        return rows;
    }

    /// <summary>Returns the suspected leaks under <paramref name="thresholds"/> as rows with their reason, unsorted.</summary>
    public List<ConnectionSnapshot> CaptureSuspects(LeakDetectionOptions thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);

        var now = _time.GetTimestamp();
        var rows = new List<ConnectionSnapshot>();
        foreach (var connection in Inbound)
        {
            var measure = Measure(connection, now);
            if (LeakCriteria.Evaluate(measure, thresholds) is { } reason)
            {
                rows.Add(ToRow(connection, measure, reason));
            }
        }

        foreach (var connection in Outbound)
        {
            var measure = Measure(connection, now);
            if (LeakCriteria.Evaluate(measure, thresholds) is { } reason)
            {
                rows.Add(ToRow(connection, measure, reason));
            }
        }

        return rows;
    }

    /// <summary>Returns the open client connection with Kestrel connection id <paramref name="id"/>, or null.</summary>
    public InboundConnection? FindInbound(string id) => _inbound.Find(id);

    /// <summary>Returns the open upstream connection with table id <paramref name="id"/>, or null.</summary>
    public OutboundConnectionStream? FindOutbound(string id) =>
        Outbound.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.Ordinal));

    /// <summary>Measures a client connection at timestamp <paramref name="now"/>.</summary>
    public ConnectionMeasure Measure(InboundConnection connection, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);

        var phase = connection.GetPhase(out var phaseTimestamp);

        // Between requests no body bytes move, so idle time is the time in the state. The byte counters may
        // have been sampled after the last request ended, and using them would understate the idle time.
        var lastProgress = phase is InboundPhase.AwaitingHeaders or InboundPhase.IdleKeepAlive
            ? phaseTimestamp
            : Math.Max(Volatile.Read(ref connection.LastActivityTimestamp), Volatile.Read(ref connection.ProgressTimestamp));
        return new ConnectionMeasure(
            ConnectionStates.FromPhase(phase),
            Elapsed(connection.OpenedTimestamp, now),
            Elapsed(lastProgress, now),
            Elapsed(phaseTimestamp, now));
    }

    /// <summary>Measures an upstream connection at timestamp <paramref name="now"/>.</summary>
    public ConnectionMeasure Measure(OutboundConnectionStream connection, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);

        var active = connection.IsActive(out var stateTimestamp);
        return new ConnectionMeasure(
            active ? ConnectionStates.Active : ConnectionStates.Idle,
            Elapsed(connection.OpenedTimestamp, now),
            Elapsed(connection.LastActivityTimestamp, now),
            Elapsed(stateTimestamp, now));
    }

    /// <summary>
    /// Records the body byte counters of <paramref name="connection"/> and, when they changed since the last
    /// call, <paramref name="now"/> as its last progress. Called only by <see cref="LeakMonitor"/>.
    /// </summary>
    public static void ObserveProgress(InboundConnection connection, long now)
    {
        ArgumentNullException.ThrowIfNull(connection);

        var bytes = connection.BodyBytesRead + connection.ResponseBytesWritten;
        if (bytes != connection.ProgressBytes)
        {
            connection.ProgressBytes = bytes;
            Volatile.Write(ref connection.ProgressTimestamp, now);
        }
    }

    /// <summary>Builds the row of a client connection.</summary>
    public static ConnectionSnapshot ToRow(InboundConnection connection, ConnectionMeasure measure, string? leakReason = null)
    {
        ArgumentNullException.ThrowIfNull(connection);

        return new ConnectionSnapshot
        {
            Side = ConnectionSides.Inbound,
            Id = connection.ConnectionId,
            State = measure.State,
            Protocol = measure.State == ConnectionStates.Upgraded ? "upgraded" : connection.Protocol,
            RemoteAddress = connection.RemoteEndPoint?.Address.ToString(),
            RemotePort = connection.RemoteEndPoint?.Port,
            LocalPort = connection.LocalPort,
            AgeSeconds = Seconds(measure.Age),
            IdleSeconds = Seconds(measure.Idle),
            StateSeconds = Seconds(measure.InState),
            Requests = connection.RequestCount,
            BytesRead = connection.BodyBytesRead,
            BytesWritten = connection.ResponseBytesWritten,
            LeakReason = leakReason,
            OpenedTimestamp = connection.OpenedTimestamp,
        };
    }

    /// <summary>Builds the row of an upstream connection.</summary>
    public static ConnectionSnapshot ToRow(OutboundConnectionStream connection, ConnectionMeasure measure, string? leakReason = null)
    {
        ArgumentNullException.ThrowIfNull(connection);

        return new ConnectionSnapshot
        {
            Side = ConnectionSides.Outbound,
            Id = connection.Id,
            State = measure.State,
            RemoteAddress = connection.RemoteEndPoint?.Address.ToString(),
            RemotePort = connection.RemoteEndPoint?.Port,
            LocalPort = connection.LocalPort,
            Cluster = connection.Cluster,
            Destination = connection.Destination,
            AgeSeconds = Seconds(measure.Age),
            IdleSeconds = Seconds(measure.Idle),
            StateSeconds = Seconds(measure.InState),
            Requests = connection.RequestCount,
            BytesRead = connection.BytesRead,
            BytesWritten = connection.BytesWritten,
            LeakReason = leakReason,
            OpenedTimestamp = connection.OpenedTimestamp,
        };
    }

    // A timestamp taken after "now" by another thread reads as zero elapsed time, never as negative.
    private TimeSpan Elapsed(long since, long now) => since >= now ? TimeSpan.Zero : _time.GetElapsedTime(since, now);

    // Milliseconds are enough for an operator and keep the JSON short.
    private static double Seconds(TimeSpan duration) => Math.Round(duration.TotalSeconds, 3);
}
