using System.Net;
using System.Threading.RateLimiting;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// Wraps an upstream response body so the destination's connection slot is released as soon as the body
/// has been read to its end, or its stream or the response is disposed: after the body is copied, when the
/// client aborts, or when the copy fails. YARP disposes the response only on failure paths, so the end of
/// the body is the usual release point.
/// </summary>
// TODO: buffer upstream responses (as nginx's proxy_buffering does) so that a slow reader stops holding
// the slot once the upstream has sent everything; LeakLab's slow-read scenario shows the cost (docs/leaklab.md).
internal sealed class LeaseReleasingContent : HttpContent
{
    private readonly HttpContent _inner;
    private RateLimitLease? _lease;

    public LeaseReleasingContent(HttpContent inner, RateLimitLease lease)
    {
        _inner = inner;
        _lease = lease;

        // The raw values, as YARP copies them: enumerating Headers itself would parse every value.
        foreach (var header in inner.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        _inner.CopyToAsync(stream, context);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _inner.CopyToAsync(stream, context, cancellationToken);

    protected override async Task<Stream> CreateContentReadStreamAsync() =>
        new ReleasingStream(await _inner.ReadAsStreamAsync(), this);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new ReleasingStream(await _inner.ReadAsStreamAsync(cancellationToken), this);

    /// <summary>Releases the slot; safe to call more than once.</summary>
    internal void Release() => Interlocked.Exchange(ref _lease, null)?.Dispose();

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            Release();
        }

        base.Dispose(disposing);
    }

    // Releases the slot at the end of the body or when disposed.
    private sealed class ReleasingStream(Stream inner, LeaseReleasingContent owner) : Stream
    {
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
            var read = await inner.ReadAsync(buffer, cancellationToken);
            if (read == 0 && buffer.Length > 0)
            {
                owner.Release();
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            if (read == 0 && count > 0)
            {
                owner.Release();
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Release();
            }

            base.Dispose(disposing);
        }
    }
}
