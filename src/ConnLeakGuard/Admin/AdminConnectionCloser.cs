using System.Net;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Telemetry;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Closes one connection by id for <c>POST /debug/connections/{id}/close</c>, gracefully or at once, and
/// counts and logs the close.
/// </summary>
/// <remarks>
/// A graceful inbound close is the one the maximum connection age uses: HTTP/1.1 closes after the current
/// response or at once when idle, HTTP/2 sends GOAWAY, and the connection is aborted when
/// <c>Inbound:MaxConnectionAgeGracePeriod</c> expires. An outbound close disposes the upstream stream, which
/// fails a request in flight on it. Inbound closes count in <c>connleakguard.inbound.connections.closed</c>
/// with reason <c>admin_close</c>; that counter is for client connections, so outbound closes are only logged.
/// </remarks>
internal sealed class AdminConnectionCloser
{
    private readonly ConnectionTable _table;
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly GuardMetrics _metrics;
    private readonly AdminEventLog _log;

    public AdminConnectionCloser(ConnectionTable table, IOptionsMonitor<GuardOptions> options, GuardMetrics metrics, AdminEventLog log)
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

    /// <summary>Closes the connection <paramref name="id"/>; returns null when no open connection has that id.</summary>
    public CloseResult? Close(string id, bool abort, IPAddress? client)
    {
        ArgumentNullException.ThrowIfNull(id);

        CloseResult? result = null;
        if (_table.FindInbound(id) is { } inbound)
        {
            result = new CloseResult(id, ConnectionSides.Inbound, abort ? AbortInbound(inbound) : CloseInbound(inbound));
        }
        else if (_table.FindOutbound(id) is { } outbound)
        {
            var action = !outbound.Close(abort) ? "already_closing" : abort ? "aborted" : "close_requested";
            result = new CloseResult(id, ConnectionSides.Outbound, action);
        }

        if (result is not null)
        {
            _log.ConnectionClosed(result.Side, id, result.Action, client);
        }

        return result;
    }

    private string CloseInbound(Inbound.InboundConnection connection)
    {
        var time = connection.Time;
        var grace = _options.CurrentValue.Inbound.MaxConnectionAgeGracePeriod;
        var hardCloseDeadline = time.GetTimestamp() + (long)(grace.TotalSeconds * time.TimestampFrequency);
        if (!connection.TryRequestClose(hardCloseDeadline))
        {
            return "already_closing";
        }

        _metrics.ConnectionClosed(CloseReasons.AdminClose);
        return "close_requested";
    }

    private string AbortInbound(Inbound.InboundConnection connection)
    {
        // A connection already asked to close was counted under that close's reason; the abort only hurries it.
        var alreadyClosing = connection.CloseRequested;
        if (!connection.TryMarkAborted())
        {
            return "already_closing";
        }

        connection.Abort("an operator closed it through the admin port");
        if (!alreadyClosing)
        {
            _metrics.ConnectionClosed(CloseReasons.AdminClose);
        }

        return "aborted";
    }
}
