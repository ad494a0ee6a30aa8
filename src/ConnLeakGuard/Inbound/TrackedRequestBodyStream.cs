namespace ConnLeakGuard.Inbound;

/// <summary>
/// Wraps the request body to record when it has been read to its end, so the body deadline stops applying,
/// and how many bytes it carried, counted on the connection. One instance serves all requests of an HTTP/1.1
/// connection.
/// </summary>
internal sealed class TrackedRequestBodyStream : Stream
{
    private Stream _inner = Null;
    private InboundRequest? _request;

    /// <summary>Points the wrapper at the body of the next request.</summary>
    public void Attach(Stream inner, InboundRequest request)
    {
        _inner = inner;
        _request = request;
    }

    /// <summary>Releases the current request's body.</summary>
    public void Detach()
    {
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
        var read = await _inner.ReadAsync(buffer, cancellationToken);
        Record(read, buffer.Length);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = _inner.Read(buffer, offset, count);
        Record(read, count);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void Record(int read, int requested)
    {
        if (_request is not { } request)
        {
            return;
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
