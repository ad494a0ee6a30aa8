using System.Globalization;
using System.Text;

namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>
/// The request line and the headers of one HTTP/1.x request that the upstream acts on.
/// </summary>
internal sealed record RequestHead(string Method, string Target, long ContentLength, bool IsChunked, bool CloseAfterResponse)
{
    /// <summary>The four bytes that end a request head.</summary>
    public static ReadOnlySpan<byte> Terminator => "\r\n\r\n"u8;

    /// <summary>
    /// Parses a request head without its final empty line. Returns false for a malformed request line,
    /// an unsupported HTTP version or an invalid Content-Length.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> head, out RequestHead? request)
    {
        request = null;
        string text = Encoding.ASCII.GetString(head);
        string[] lines = text.Split("\r\n");

        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3)
        {
            return false;
        }

        string version = requestLine[2];
        bool http11 = version == "HTTP/1.1";
        if (!http11 && version != "HTTP/1.0")
        {
            return false;
        }

        long contentLength = 0;
        bool chunked = false;

        // HTTP/1.1 keeps the connection open unless told otherwise, HTTP/1.0 closes it unless told otherwise.
        bool close = !http11;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }

            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out contentLength))
                {
                    return false;
                }
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                if (value.Contains("close", StringComparison.OrdinalIgnoreCase))
                {
                    close = true;
                }
                else if (value.Contains("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    close = false;
                }
            }
        }

        request = new RequestHead(requestLine[0], requestLine[1], contentLength, chunked, close);
        return true;
    }
}
