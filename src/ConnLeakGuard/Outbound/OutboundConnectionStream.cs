using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ConnLeakGuard.Inbound;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// An upstream connection as opened by the guard's connect callback: counts bytes, requests and activity
/// for the connection table, and reports its close to <see cref="OutboundPoolRegistry"/> exactly once.
/// </summary>
/// <remarks>
/// <para>
/// The stream sees bytes, not HTTP messages, so it learns which request it carries from the write path:
/// <c>SocketsHttpHandler</c> writes an HTTP/1.1 request on the flow of the caller, where
/// <see cref="InboundRequestContext.Current"/> is the client request being forwarded. A write on behalf of
/// a client request other than the previous one starts a new request on the connection.
/// </para>
/// <para>
/// The connection is active while a write is in progress or while the client request that last wrote to it
/// is still in flight; otherwise it is idle in the pool. The inbound request ends right after the forwarder
/// has copied the upstream response, which is also when the handler returns the connection to its pool, so
/// the two differ by microseconds. A write outside any client request (none happens in the proxy today) starts
/// a request when a read has returned data since the previous write, and keeps the connection active until
/// the next read returns data.
/// </para>
/// <para>
/// NOTE: an HTTP/2 upstream connection multiplexes requests and writes them from one background loop that
/// carries the flow of the request that started it, so its request count and state are approximate.
/// </para>
/// </remarks>
internal sealed class OutboundConnectionStream : Stream
{
    private static long s_lastId;

    // Time to wait for the upstream to close its side after the guard closed its own, before the permit
    // is released anyway (an upstream that never closes must not hold the permit forever).
    private static readonly TimeSpan s_lingerTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_lingerPoll = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;
    private readonly NetworkStream _inner;
    private readonly SemaphoreSlim _permits;
    private readonly OutboundPoolRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ConnectionMetrics? _connectionMetrics;
    private long _bytesRead;
    private long _bytesWritten;
    private long _lastActivity;
    private int _closed;
    private int _abortOnClose;

    // Request tracking. The write path is the only writer of these fields, except that IsActive drops the
    // reference to a finished client request so that a pooled connection does not keep it alive.
    private InboundRequest? _owner;
    private long _ownerSequence;
    private long _requestCount;
    private long _requestStartTimestamp;
    private long _lastWriteTimestamp;
    private long _lastReadTimestamp;
    private volatile bool _writeInProgress;

    /// <param name="socket">The connected socket; the stream owns it.</param>
    /// <param name="cluster">Cluster id.</param>
    /// <param name="destination">Destination "host:port".</param>
    /// <param name="permits">The destination's connection permits; one is released when the connection has closed.</param>
    /// <param name="registry">The registry that lists the connection while it is open.</param>
    /// <param name="time">The clock of every timestamp of the connection.</param>
    /// <param name="connectionMetrics">Records the connection's age at close; none is recorded when null.</param>
    public OutboundConnectionStream(
        Socket socket,
        string cluster,
        string destination,
        SemaphoreSlim permits,
        OutboundPoolRegistry registry,
        TimeProvider time,
        ConnectionMetrics? connectionMetrics = null)
    {
        ArgumentNullException.ThrowIfNull(socket);

        _socket = socket;
        _permits = permits;
        _inner = new NetworkStream(socket, ownsSocket: true);
        _registry = registry;
        _time = time;
        _connectionMetrics = connectionMetrics;
        Id = "out-" + Interlocked.Increment(ref s_lastId).ToString(CultureInfo.InvariantCulture);
        Cluster = cluster;
        Destination = destination;
        LocalPort = (socket.LocalEndPoint as IPEndPoint)?.Port ?? 0;
        RemoteEndPoint = socket.RemoteEndPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } mapped
            ? new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port)
            : socket.RemoteEndPoint as IPEndPoint;
        OpenedTimestamp = time.GetTimestamp();
        _lastActivity = OpenedTimestamp;
        registry.ConnectionOpened(this);
    }

    /// <summary>The connection's id in the connection table: <c>out-</c> and a number unique in the process.</summary>
    public string Id { get; }

    /// <summary>Cluster id.</summary>
    public string Cluster { get; }

    /// <summary>Destination "host:port".</summary>
    public string Destination { get; }

    /// <summary>The guard's local port, as <c>ss</c> shows it.</summary>
    public int LocalPort { get; }

    /// <summary>
    /// The upstream's address and port as connected, after name resolution. The socket is dual-mode, so an
    /// IPv4 upstream is connected as <c>::ffff:a.b.c.d</c>, which is stored as the IPv4 address.
    /// </summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Timestamp of the connect.</summary>
    public long OpenedTimestamp { get; }

    /// <summary>Timestamp of the last read or write.</summary>
    public long LastActivityTimestamp => Volatile.Read(ref _lastActivity);

    /// <summary>Bytes received from the upstream.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Bytes sent to the upstream.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Requests written to the connection, as defined in the remarks of the type.</summary>
    public long RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>Whether a close has started; the connection leaves the registry when it completes.</summary>
    public bool IsClosing => Volatile.Read(ref _closed) != 0;

    /// <summary>Whether the leak monitor has logged the connection as a suspected leak. Written only by the leak monitor.</summary>
    public bool LeakLogged;

    /// <summary>
    /// Returns whether the connection carries a request now, as defined in the remarks of the type, and the
    /// timestamp at which it entered that state: the first write of its request when active, the last read
    /// or write when idle.
    /// </summary>
    public bool IsActive(out long stateTimestamp)
    {
        var requestStart = Volatile.Read(ref _requestStartTimestamp);
        if (_writeInProgress)
        {
            stateTimestamp = requestStart;
            return true;
        }

        var owner = Volatile.Read(ref _owner);
        if (owner is not null)
        {
            if (owner.Context is not null && owner.Sequence == Volatile.Read(ref _ownerSequence))
            {
                stateTimestamp = requestStart;
                return true;
            }

            // Only this exact request is dropped: a write that has just taken over the connection stays.
            Interlocked.CompareExchange(ref _owner, null, owner);
        }
        else if (Volatile.Read(ref _lastWriteTimestamp) > Volatile.Read(ref _lastReadTimestamp))
        {
            stateTimestamp = requestStart;
            return true;
        }

        stateTimestamp = LastActivityTimestamp;
        return false;
    }

    /// <summary>
    /// Closes the connection: with FIN, releasing its permit once the upstream has closed too (at most 2 s
    /// later), or with <paramref name="abort"/> at once with RST. A request in flight on it fails. Returns
    /// false if a close had already started.
    /// </summary>
    public bool Close(bool abort)
    {
        if (IsClosing)
        {
            return false;
        }

        if (abort)
        {
            Volatile.Write(ref _abortOnClose, 1);
        }

        Dispose();
        return true;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken);
        if (read > 0)
        {
            var now = _time.GetTimestamp();
            Interlocked.Add(ref _bytesRead, read);
            Volatile.Write(ref _lastReadTimestamp, now);
            Volatile.Write(ref _lastActivity, now);
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BeginWrite(_time.GetTimestamp());
        try
        {
            await _inner.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            _writeInProgress = false;
        }

        Interlocked.Add(ref _bytesWritten, buffer.Length);
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // Counts a new request when this write belongs to a different client request than the previous one, as
    // the remarks of the type define it. Plain reads and writes suffice: the handler never writes to one
    // connection from two flows at once.
    private void BeginWrite(long now)
    {
        var current = InboundRequestContext.Current;
        if (current is not null)
        {
            var sequence = current.Sequence;
            if (!ReferenceEquals(current, Volatile.Read(ref _owner)) || sequence != Volatile.Read(ref _ownerSequence))
            {
                StartRequest(now);
                Volatile.Write(ref _ownerSequence, sequence);
                Volatile.Write(ref _owner, current);
            }
        }
        else if (_requestCount == 0 || Volatile.Read(ref _lastReadTimestamp) > Volatile.Read(ref _lastWriteTimestamp))
        {
            StartRequest(now);
            Volatile.Write(ref _owner, null);
        }

        Volatile.Write(ref _lastWriteTimestamp, now);
        _writeInProgress = true;
    }

    private void StartRequest(long now)
    {
        Volatile.Write(ref _requestStartTimestamp, now);
        Volatile.Write(ref _requestCount, _requestCount + 1);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _ = CloseAsync();
        }

        base.Dispose(disposing);
    }

    // Shuts the socket down in both directions, which sends FIN and makes any pending read of the handler
    // return at once, then waits for the upstream's FIN before releasing the connection permit, so that a
    // replacement connection never overlaps the one still closing at the upstream. After SHUT_RD the
    // socket cannot read the FIN, so the wait watches the TCP state instead.
    private async Task CloseAsync()
    {
        try
        {
            if (Volatile.Read(ref _abortOnClose) != 0)
            {
                // A zero linger time makes the close below send RST and drop unsent data.
                _socket.LingerState = new LingerOption(true, 0);
                return;
            }

            _socket.Shutdown(SocketShutdown.Both);
            var deadline = _time.GetTimestamp() + (long)(s_lingerTimeout.TotalSeconds * _time.TimestampFrequency);
            while (!TcpState.IsClosedByPeer(_socket) && _time.GetTimestamp() < deadline)
            {
                await Task.Delay(s_lingerPoll, _time);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Reset or already closed: nothing to wait for.
        }
        finally
        {
            _inner.Dispose();
            _registry.ConnectionClosed(this);
            _permits.Release();
            _connectionMetrics?.ConnectionClosed(ConnectionSides.Outbound, _time.GetElapsedTime(OpenedTimestamp));
        }
    }
}
