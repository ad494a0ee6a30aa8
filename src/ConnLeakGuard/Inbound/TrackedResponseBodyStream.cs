namespace ConnLeakGuard.Inbound;

/// <summary>
/// Wraps the response body to record the bytes the client has accepted and whether a write is waiting on
/// it, so that <see cref="InboundDeadlineSweeper"/> can cut a reader that stalls. One instance serves all
/// requests of an HTTP/1.1 connection.
/// </summary>
/// <remarks>
/// Kestrel's own minimum response rate extends its deadline by every byte written into the kernel's socket
/// buffers, which hold megabytes on a fast link, so a reader that stops reading entirely is cut only after
/// minutes. Measuring progress while a write is blocked cuts it after one grace period.
/// </remarks>
internal sealed class TrackedResponseBodyStream : Stream
{
    private readonly TimeProvider _time;
    private Stream _inner = Null;
    private InboundRequest? _request;

    public TrackedResponseBodyStream(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Points the wrapper at the body of the next response.</summary>
    public void Attach(Stream inner, InboundRequest request)
    {
        _inner = inner;
        _request = request;
    }

    /// <summary>Releases the current response's body.</summary>
    public void Detach()
    {
        _inner = Null;
        _request = null;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var request = _request;
        request?.BeginWrite(_time.GetTimestamp());
        try
        {
            await _inner.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            request?.EndWrite(buffer.Length);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        var request = _request;
        request?.BeginWrite(_time.GetTimestamp());
        try
        {
            await _inner.FlushAsync(cancellationToken);
        }
        finally
        {
            request?.EndWrite(0);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override void Flush() => _inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
