using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// An upstream connection as opened by the guard's connect callback: counts bytes and records activity for
/// the connection table, and reports its close to <see cref="OutboundPoolRegistry"/> exactly once.
/// </summary>
internal sealed class OutboundConnectionStream : Stream
{
    // Time to wait for the upstream's FIN after sending ours before closing hard. A pending read of the
    // handler completes only when the socket closes, so this also bounds how late a cancelled request's
    // read fails against an upstream that never closes.
    private static readonly TimeSpan s_lingerTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Socket _socket;
    private readonly NetworkStream _inner;
    private readonly SemaphoreSlim _permits;
    private readonly OutboundPoolRegistry _registry;
    private readonly TimeProvider _time;
    private long _bytesRead;
    private long _bytesWritten;
    private long _lastActivity;
    private int _closed;

    public OutboundConnectionStream(Socket socket, string cluster, string destination, SemaphoreSlim permits, OutboundPoolRegistry registry, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(socket);

        _socket = socket;
        _permits = permits;
        _inner = new NetworkStream(socket, ownsSocket: true);
        _registry = registry;
        _time = time;
        Cluster = cluster;
        Destination = destination;
        LocalPort = (socket.LocalEndPoint as IPEndPoint)?.Port ?? 0;
        OpenedTimestamp = time.GetTimestamp();
        _lastActivity = OpenedTimestamp;
        registry.ConnectionOpened(this);
    }

    /// <summary>Cluster id.</summary>
    public string Cluster { get; }

    /// <summary>Destination "host:port".</summary>
    public string Destination { get; }

    /// <summary>The guard's local port, as <c>ss</c> shows it.</summary>
    public int LocalPort { get; }

    /// <summary>Timestamp of the connect.</summary>
    public long OpenedTimestamp { get; }

    /// <summary>Timestamp of the last read or write.</summary>
    public long LastActivityTimestamp => Volatile.Read(ref _lastActivity);

    /// <summary>Bytes received from the upstream.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Bytes sent to the upstream.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

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
            Interlocked.Add(ref _bytesRead, read);
            Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken);
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

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _ = CloseAsync();
        }

        base.Dispose(disposing);
    }

    // Sends FIN and waits for the upstream's before releasing the connection permit, so that a replacement
    // connection never overlaps the one still closing at the upstream.
    private async Task CloseAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            using var linger = new CancellationTokenSource(s_lingerTimeout);
            var buffer = new byte[512];
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, linger.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Reset, linger timeout, or already closed: close hard below.
        }
        finally
        {
            _inner.Dispose();
            _registry.ConnectionClosed(this);
            _permits.Release();
        }
    }
}
