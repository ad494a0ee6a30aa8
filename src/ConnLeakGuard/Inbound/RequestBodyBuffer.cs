using System.IO.Pipelines;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Reads the start of a request body into Kestrel's own request buffer without consuming it, so the
/// forwarder later reads it at once. Holding a small body back this way means a slow sender is timed out
/// by the body limits before its request takes an upstream connection slot.
/// </summary>
internal static class RequestBodyBuffer
{
    /// <summary>
    /// Reads until the body is complete or <paramref name="limit"/> bytes are buffered. Returns false when
    /// the read was cancelled by the body deadline (the caller answers 408).
    /// </summary>
    public static async ValueTask<bool> FillAsync(PipeReader reader, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);

        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;

            // Mark everything as examined but nothing as consumed: the next read returns the same bytes
            // plus whatever arrived, and the forwarder's first read returns all of them.
            reader.AdvanceTo(buffer.Start, buffer.End);

            if (result.IsCanceled)
            {
                return false;
            }

            if (result.IsCompleted || buffer.Length >= limit)
            {
                return true;
            }
        }
    }
}
