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
    private long _bodyBytesRead;
    private long _responseBytesWritten;

    /// <param name="context">Kestrel's connection.</param>
    /// <param name="openedTimestamp">Timestamp of the accept, from <paramref name="time"/>.</param>
    /// <param name="maxAgeDeadline">Timestamp after which the connection is asked to close.</param>
    /// <param name="time">The clock of every timestamp of the connection; the system clock when null.</param>
    public InboundConnection(ConnectionContext context, long openedTimestamp, long maxAgeDeadline, TimeProvider? time = null)
    {
        _context = context;
        Time = time ?? TimeProvider.System;
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

    /// <summary>The clock of <see cref="OpenedTimestamp"/> and of the phase timestamps of its requests.</summary>
    public TimeProvider Time { get; }

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

    /// <summary>
    /// Request body bytes handed to the forwarder, over all requests. A body that the guard is still
    /// buffering before it takes an upstream slot is not counted until the forwarder reads it.
    /// </summary>
    public long BodyBytesRead => Interlocked.Read(ref _bodyBytesRead);

    /// <summary>Response body bytes accepted by the connection, over all requests; headers are not counted.</summary>
    public long ResponseBytesWritten => Interlocked.Read(ref _responseBytesWritten);

    /// <summary>
    /// <see cref="BodyBytesRead"/> plus <see cref="ResponseBytesWritten"/> when the leak monitor last saw
    /// them change. Written only by the leak monitor.
    /// </summary>
    public long ProgressBytes;

    /// <summary>Timestamp at which the leak monitor last saw <see cref="ProgressBytes"/> change, or 0. Written only by the leak monitor.</summary>
    public long ProgressTimestamp;

    /// <summary>Whether the leak monitor has logged the connection as a suspected leak. Written only by the leak monitor.</summary>
    public bool LeakLogged;

    /// <summary>Whether a graceful close has been requested.</summary>
    public bool CloseRequested => Volatile.Read(ref _closeRequested) != 0;

    // The byte counters are added to atomically because the streams of one HTTP/2 connection read and write
    // concurrently. An HTTP/1.1 connection has one writer, so there the add is uncontended.

    /// <summary>Counts request body bytes read by the forwarder.</summary>
    public void CountBodyBytesRead(int bytes) => Interlocked.Add(ref _bodyBytesRead, bytes);

    /// <summary>Counts response body bytes accepted by the connection.</summary>
    public void CountResponseBytesWritten(int bytes) => Interlocked.Add(ref _responseBytesWritten, bytes);

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

    /// <summary>
    /// Returns what the connection is doing and the timestamp at which it started doing it. With no request in
    /// flight that is <see cref="InboundPhase.AwaitingHeaders"/> since the accept before the first request and
    /// <see cref="InboundPhase.IdleKeepAlive"/> since the last request ended after it; otherwise it is the
    /// phase of the in-flight request that entered its phase first, the one stuck longest on HTTP/2.
    /// </summary>
    /// <remarks>
    /// Kestrel does not report the bytes of a request whose headers are not complete, so a client that has
    /// sent part of its next request's headers still shows <see cref="InboundPhase.IdleKeepAlive"/>.
    /// </remarks>
    public InboundPhase GetPhase(out long phaseTimestamp)
    {
        InboundRequest? oldest = null;
        var oldestTimestamp = long.MaxValue;
        var http1 = Http1Request;
        if (http1.Context is not null)
        {
            oldest = http1;
            oldestTimestamp = http1.PhaseTimestamp;
        }

        if (_streams is { } streams)
        {
            foreach (var pair in streams)
            {
                var timestamp = pair.Key.PhaseTimestamp;
                if (timestamp < oldestTimestamp)
                {
                    oldest = pair.Key;
                    oldestTimestamp = timestamp;
                }
            }
        }

        if (oldest is not null)
        {
            // The phase is read before its timestamp, the reverse of the order the setter writes them in, so
            // the timestamp is never older than the phase it is returned with.
            var phase = oldest.Phase;
            phaseTimestamp = oldest.PhaseTimestamp;
            return phase;
        }

        if (RequestCount == 0)
        {
            phaseTimestamp = OpenedTimestamp;
            return InboundPhase.AwaitingHeaders;
        }

        phaseTimestamp = Volatile.Read(ref LastActivityTimestamp);
        return InboundPhase.IdleKeepAlive;
    }

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
