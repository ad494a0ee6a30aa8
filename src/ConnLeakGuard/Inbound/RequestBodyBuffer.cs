using System.Buffers;
using System.IO.Pipelines;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Reads the start of a request body into a pooled buffer before the request takes an upstream connection
/// slot. A slow sender of a small body then meets the body limits while it has only a client connection.
/// <see cref="TrackedRequestBodyStream"/> replays the buffered bytes to the forwarder.
/// </summary>
/// <remarks>
/// The bytes are consumed from Kestrel's pipe, never only examined. For HTTP/2, Kestrel opens the flow-control
/// window as the application consumes. With the body left unconsumed in Kestrel's pipe, about one upload in
/// ten under CPU load ended with FLOW_CONTROL_ERROR, although the client had kept to its window.
/// </remarks>
internal static class RequestBodyBuffer
{
    // First rental when the body has no Content-Length. The buffer doubles up to the limit as bytes arrive,
    // so a short body needs only a short buffer.
    private const int InitialSize = 4096;

    /// <summary>
    /// Reads until the body is complete or <paramref name="limit"/> bytes are buffered, and hands the bytes to
    /// <paramref name="body"/>. Returns false when the body deadline cancelled the read, and the caller then
    /// responds with 408; the buffer goes back to the pool.
    /// </summary>
    public static async ValueTask<bool> FillAsync(PipeReader reader, TrackedRequestBodyStream body, int limit, long? contentLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(body);

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit, contentLength ?? InitialSize));
        var filled = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                if (result.IsCanceled)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return false;
                }

                var available = result.Buffer;
                var take = (int)Math.Min(available.Length, limit - filled);
                if (filled + take > buffer.Length)
                {
                    buffer = Grow(buffer, filled, Math.Min(limit, Math.Max(buffer.Length * 2, filled + take)));
                }

                available.Slice(0, take).CopyTo(buffer.AsSpan(filled));
                filled += take;
                reader.AdvanceTo(available.GetPosition(take));

                if (filled >= limit || (result.IsCompleted && take == available.Length))
                {
                    body.SetPrefix(buffer, filled);
                    return true;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static byte[] Grow(byte[] buffer, int filled, int size)
    {
        var larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, filled).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
