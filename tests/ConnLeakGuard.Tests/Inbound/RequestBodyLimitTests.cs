using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class RequestBodyLimitTests
{
    private const int BodyLength = 1024 * 1024;

    [Fact]
    public async Task SlowBody_IsCutByMinimumRate()
    {
        await using var upstream = await StartReadingUpstreamAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRate"] = "100B",
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRateGracePeriod"] = "2s",
            ["ConnLeakGuard:Inbound:RequestBodyTimeout"] = "30s",
            ["ConnLeakGuard:Inbound:RequestBufferSize"] = "off",
        });

        var outcome = await SendBodyAsync(guard, bytesPerSecond: 10, TimeSpan.FromSeconds(10));

        Assert.True(outcome.Closed || outcome.Status == 408, $"status {outcome.Status}, closed {outcome.Closed}");
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(6), $"cut after {outcome.Elapsed}");
        Assert.True(await TestUpstream.WaitForAsync(() => upstream.AbortedRequests == 1, TimeSpan.FromSeconds(3)), "the upstream request was not aborted");
    }

    [Fact]
    public async Task SteadyBody_IsCutByBodyDeadline()
    {
        await using var upstream = await StartReadingUpstreamAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRate"] = "100B",
            ["ConnLeakGuard:Inbound:RequestBodyTimeout"] = "3s",
            ["ConnLeakGuard:Inbound:RequestBufferSize"] = "off",
        });

        // 2 KB/s is far above the minimum rate, so only the total deadline can stop it.
        var outcome = await SendBodyAsync(guard, bytesPerSecond: 2 * 1024, TimeSpan.FromSeconds(10));

        Assert.Equal(408, outcome.Status);
        Assert.InRange(outcome.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5));
        Assert.True(await TestUpstream.WaitForAsync(() => upstream.AbortedRequests == 1, TimeSpan.FromSeconds(3)), "the upstream request was not aborted");
    }

    [Fact]
    public async Task SlowSmallBody_NeverReachesUpstream()
    {
        await using var upstream = await StartReadingUpstreamAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRate"] = "100B",
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRateGracePeriod"] = "2s",
            ["ConnLeakGuard:Inbound:RequestBufferSize"] = "64KiB",
        });

        // The first 64 KiB are buffered before the request is forwarded; at 10 B/s they never arrive.
        var outcome = await SendBodyAsync(guard, bytesPerSecond: 10, TimeSpan.FromSeconds(10));

        Assert.True(outcome.Closed || outcome.Status == 408, $"status {outcome.Status}, closed {outcome.Closed}");
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(6), $"cut after {outcome.Elapsed}");
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task FastEnoughBody_Passes()
    {
        await using var upstream = await StartReadingUpstreamAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRate"] = "100B",
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRateGracePeriod"] = "2s",
            ["ConnLeakGuard:Inbound:RequestBodyTimeout"] = "40s",
            ["ConnLeakGuard:Inbound:MaxRequestBodySize"] = "2MiB",
        });

        var outcome = await SendBodyAsync(guard, bytesPerSecond: 50 * 1024, TimeSpan.FromSeconds(35));

        Assert.Equal(200, outcome.Status);
        Assert.Equal(0, upstream.AbortedRequests);
        Assert.Equal(BodyLength.ToString(System.Globalization.CultureInfo.InvariantCulture), outcome.UpstreamReceived);
    }

    private static async Task<TestUpstream> StartReadingUpstreamAsync()
    {
        var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            var total = 0L;
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                total += read;
            }

            await context.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture), context.RequestAborted);
        };
        return upstream;
    }

    // Sends a 1 MiB body at the given rate, in 10 slices a second, until the guard answers or closes.
    private static async Task<(int? Status, bool Closed, TimeSpan Elapsed, string? UpstreamReceived)> SendBodyAsync(GuardProcess guard, int bytesPerSecond, TimeSpan timeout)
    {
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, $"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: {BodyLength}\r\n\r\n");

        var stopwatch = Stopwatch.StartNew();
        var response = ReadWithBodyAsync(socket, timeout);
        var slice = new byte[Math.Max(1, bytesPerSecond / 10)];
        var sent = 0;

        while (sent < BodyLength && !response.IsCompleted)
        {
            var expected = (int)Math.Min(BodyLength, stopwatch.Elapsed.TotalSeconds * bytesPerSecond);
            while (sent < expected)
            {
                var count = Math.Min(slice.Length, expected - sent);
                try
                {
                    await socket.SendAsync(slice.AsMemory(0, count), SocketFlags.None);
                }
                catch (SocketException)
                {
                    sent = BodyLength;
                    break;
                }

                sent += count;
            }

            await Task.WhenAny(response, Task.Delay(100));
        }

        var (status, body) = await response;
        return (status, status is null, stopwatch.Elapsed, body);
    }

    private static async Task<(int? Status, string? Body)> ReadWithBodyAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[16 * 1024];
        var received = new StringBuilder();
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    break;
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                var text = received.ToString();
                var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (headerEnd > 0 && (text.EndsWith("0\r\n\r\n", StringComparison.Ordinal) || text.Contains("Content-Length: 0", StringComparison.OrdinalIgnoreCase)
                    || (text.Contains("Content-Length:", StringComparison.OrdinalIgnoreCase) && !text.Contains("chunked", StringComparison.OrdinalIgnoreCase) && text.Length > headerEnd + 4)))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Reset or timeout: report what arrived, if anything.
        }

        var all = received.ToString();
        if (all.Length == 0)
        {
            return (null, null);
        }

        var status = int.Parse(all.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var bodyStart = all.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var body = all[bodyStart..];
        if (all.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            // "<size>\r\n<data>\r\n0\r\n\r\n": the test bodies are one chunk.
            var lines = body.Split("\r\n");
            body = lines.Length > 1 ? lines[1] : string.Empty;
        }

        return (status, body);
    }
}
