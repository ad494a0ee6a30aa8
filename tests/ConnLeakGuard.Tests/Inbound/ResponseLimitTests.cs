using System.Diagnostics;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class ResponseLimitTests
{
    private const long StreamedBytes = 200L * 1024 * 1024;

    [Fact]
    public async Task StalledReader_IsCutWithoutBufferingResponse()
    {
        await using var upstream = await StartStreamingUpstreamAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MinResponseDataRate"] = "1KiB",
            ["ConnLeakGuard:Inbound:MinResponseDataRateGracePeriod"] = "2s",
        });
        await WarmUpAsync(guard);
        var baseline = guard.GetResidentBytes();

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET /stream?bytes=209715200 HTTP/1.1\r\nHost: test\r\n\r\n");

        // Read nothing while the upstream pushes as fast as it can; watch the guard's memory meanwhile.
        var peak = baseline;
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(15) && upstream.AbortedRequests == 0)
        {
            peak = Math.Max(peak, guard.GetResidentBytes());
            await Task.Delay(100);
        }

        var received = await DrainAsync(socket, TimeSpan.FromSeconds(10));

        Assert.Equal(1, upstream.AbortedRequests);
        Assert.True(peak - baseline < 32L * 1024 * 1024, $"guard memory grew by {(peak - baseline) / 1024 / 1024} MiB");
        Assert.True(received < StreamedBytes, $"the client received the whole {received} bytes; it should have been cut");
    }

    internal static async Task<TestUpstream> StartStreamingUpstreamAsync()
    {
        var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            var total = long.Parse(context.Request.Query["bytes"].ToString() is { Length: > 0 } text ? text : "1024", System.Globalization.CultureInfo.InvariantCulture);
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'x');
            context.Response.ContentLength = total;
            for (var sent = 0L; sent < total; sent += chunk.Length)
            {
                var count = (int)Math.Min(chunk.Length, total - sent);
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, count), context.RequestAborted);
            }
        };
        return upstream;
    }

    private static async Task WarmUpAsync(GuardProcess guard)
    {
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("/stream?bytes=65536");
            response.EnsureSuccessStatusCode();
        }
    }

    private static async Task<long> DrainAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[256 * 1024];
        var total = 0L;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                total += read;
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // A reset ends the drain like a close does.
        }

        return total;
    }

    internal static async Task<long> ReadAtRateAsync(Socket socket, int bytesPerSecond, TimeSpan timeout)
    {
        var buffer = new byte[bytesPerSecond / 10];
        var stopwatch = Stopwatch.StartNew();
        var total = 0L;
        while (stopwatch.Elapsed < timeout)
        {
            var allowed = (long)(stopwatch.Elapsed.TotalSeconds * bytesPerSecond) - total;
            if (allowed <= 0)
            {
                await Task.Delay(20);
                continue;
            }

            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, allowed)), SocketFlags.None);
            }
            catch (SocketException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
