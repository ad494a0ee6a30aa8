using System.Buffers;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Wraps the request body to record when it has been read to its end, so the body deadline stops applying,
/// and how many bytes it carried, counted on the connection. It first replays the bytes that
/// <see cref="RequestBodyBuffer"/> read ahead. One instance serves all requests of an HTTP/1.1 connection.
/// </summary>
internal sealed class TrackedRequestBodyStream : Stream
{
    private Stream _inner = Null;
    private InboundRequest? _request;

    // Bytes read ahead by RequestBodyBuffer (a pooled array), served before the rest of the body.
    private byte[]? _prefix;
    private int _prefixOffset;
    private int _prefixLength;

    /// <summary>Points the wrapper at the body of the next request.</summary>
    public void Attach(Stream inner, InboundRequest request)
    {
        _inner = inner;
        _request = request;
    }

    /// <summary>
    /// Serves the first <paramref name="length"/> bytes of <paramref name="buffer"/> before the rest of the
    /// body. The stream returns the buffer to <see cref="ArrayPool{T}.Shared"/> once replayed or detached.
    /// </summary>
    public void SetPrefix(byte[] buffer, int length)
    {
        ReturnPrefix();
        _prefix = buffer;
        _prefixOffset = 0;
        _prefixLength = length;
    }

    /// <summary>Releases the current request's body.</summary>
    public void Detach()
    {
        ReturnPrefix();
        _inner = Null;
        _request = null;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = _prefix is null ? await _inner.ReadAsync(buffer, cancellationToken) : ReadPrefix(buffer.Span);
        Record(read, buffer.Length);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = _prefix is null ? _inner.Read(buffer, offset, count) : ReadPrefix(buffer.AsSpan(offset, count));
        Record(read, count);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int ReadPrefix(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _prefixLength - _prefixOffset);
        _prefix.AsSpan(_prefixOffset, count).CopyTo(destination);
        _prefixOffset += count;
        if (_prefixOffset == _prefixLength)
        {
            ReturnPrefix();
        }

        return count;
    }

    private void ReturnPrefix()
    {
        if (_prefix is { } prefix)
        {
            _prefix = null;
            ArrayPool<byte>.Shared.Return(prefix);
        }
    }

    private void Record(int read, int requested)
    {
        if (_request is not { } request)
        {
            return;
        }

        if (requested > 0)
        {
            request.Telemetry?.CountRequestBytes(read, request.Connection.Time);
        }

        if (read > 0)
        {
            request.Connection.CountBodyBytesRead(read);
        }
        else if (requested > 0)
        {
            request.BodyComplete = true;
            if (request.Phase == InboundPhase.ReadingBody)
            {
                request.Phase = InboundPhase.WaitingOnUpstream;
            }
        }
    }
}
