using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// State of one client connection, kept in <see cref="InboundConnectionRegistry"/> from accept to close.
/// Written by the connection's own flow, read by the sweeper and the admin table without locks.
/// </summary>
internal sealed class InboundConnection
{
    private readonly ConnectionContext _context;
    private ConcurrentDictionary<InboundRequest, byte>? _streams;
    private int _closeRequested;
    private int _aborted;
    private long _requestCount;

    public InboundConnection(ConnectionContext context, long openedTimestamp, long maxAgeDeadline)
    {
        _context = context;
        OpenedTimestamp = openedTimestamp;
        LastActivityTimestamp = openedTimestamp;
        MaxAgeDeadline = maxAgeDeadline;
        RemoteEndPoint = context.RemoteEndPoint as IPEndPoint;
        LocalPort = (context.LocalEndPoint as IPEndPoint)?.Port ?? 0;
        Http1Request = new InboundRequest(this);
    }

    /// <summary>Kestrel's connection id, as in Kestrel's own logs.</summary>
    public string ConnectionId => _context.ConnectionId;

    /// <summary>The client's address and port.</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The guard's port that accepted the connection.</summary>
    public int LocalPort { get; }

    /// <summary>Timestamp of the accept.</summary>
    public long OpenedTimestamp { get; }

    /// <summary>Timestamp of the last request start or end.</summary>
    public long LastActivityTimestamp;

    /// <summary>Timestamp after which the connection is asked to close, with jitter applied.</summary>
    public long MaxAgeDeadline;

    /// <summary>Timestamp after which a connection asked to close is aborted.</summary>
    public long HardCloseDeadline = long.MaxValue;

    /// <summary>"HTTP/1.1" or "HTTP/2" once the first request arrives.</summary>
    public volatile string? Protocol;

    /// <summary>What the connection does when no request is in flight.</summary>
    public volatile InboundPhase IdlePhase = InboundPhase.AwaitingHeaders;

    /// <summary>The reused request slot of an HTTP/1.1 connection.</summary>
    public InboundRequest Http1Request { get; }

    /// <summary>Requests started on the connection.</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>Whether a graceful close has been requested.</summary>
    public bool CloseRequested => Volatile.Read(ref _closeRequested) != 0;

    /// <summary>Counts a new request and returns the new total.</summary>
    public long CountRequest() => Interlocked.Increment(ref _requestCount);

    /// <summary>
    /// Asks the connection to close gracefully: HTTP/1.1 closes after the current response (or at once when
    /// idle), HTTP/2 sends GOAWAY. Returns false if a close was already requested.
    /// </summary>
    public bool TryRequestClose(long hardCloseDeadline)
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) != 0)
        {
            return false;
        }

        HardCloseDeadline = hardCloseDeadline;
        _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        return true;
    }

    /// <summary>Marks the connection as aborted by the guard; returns false if it already was.</summary>
    public bool TryMarkAborted() => Interlocked.Exchange(ref _aborted, 1) == 0;

    /// <summary>Closes the connection at once, whatever it is doing.</summary>
    public void Abort(string reason) =>
        _context.Abort(new ConnectionAbortedException($"The connection was closed by the guard: {reason}."));

    /// <summary>Registers an HTTP/2 stream so the sweeper sees its deadlines.</summary>
    public void AddStream(InboundRequest request)
    {
        var streams = _streams ?? Interlocked.CompareExchange(ref _streams, new ConcurrentDictionary<InboundRequest, byte>(), null) ?? _streams;
        streams.TryAdd(request, 0);
    }

    /// <summary>Unregisters an HTTP/2 stream.</summary>
    public void RemoveStream(InboundRequest request) => _streams?.TryRemove(request, out _);

    /// <summary>Returns the in-flight requests: the HTTP/1.1 slot when busy, and every HTTP/2 stream.</summary>
    public IEnumerable<InboundRequest> GetActiveRequests()
    {
        if (Http1Request.Context is not null)
        {
            yield return Http1Request;
        }

        if (_streams is { } streams)
        {
            foreach (var pair in streams)
            {
                yield return pair.Key;
            }
        }
    }
}
