using System.Diagnostics;
using System.Net;

namespace ConnLeakGuard.Tests.Outbound;

[Collection(SequentialTests.Name)]
public sealed class OutboundCapTests
{
    [Fact]
    public async Task Cap20_WithEnoughQueue_AllSucceed()
    {
        await using var upstream = await StartDelayedUpstreamAsync(TimeSpan.FromMilliseconds(200));
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:MaxConnectionsPerHost"] = "20",
            ["ConnLeakGuard:Outbound:MaxPendingRequests"] = "1000",
            ["ConnLeakGuard:Outbound:QueueTimeout"] = "60s",
            ["ConnLeakGuard:Outbound:ResponseHeadersTimeout"] = "90s",
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "5000",
        });

        var results = await SendConcurrentlyAsync(guard, 1000);

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.InRange(upstream.MaxOpenConnections, 1, 20);
        Assert.Equal(1000, upstream.Requests);
    }

    [Fact]
    public async Task Cap20_WithBoundedQueue_OverflowGets503Fast()
    {
        var queueTimeout = TimeSpan.FromSeconds(1);
        await using var upstream = await StartDelayedUpstreamAsync(TimeSpan.FromMilliseconds(200));
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:MaxConnectionsPerHost"] = "20",
            ["ConnLeakGuard:Outbound:MaxPendingRequests"] = "100",
            ["ConnLeakGuard:Outbound:QueueTimeout"] = "1s",
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "5000",
        });

        var results = await SendConcurrentlyAsync(guard, 1000);
        var rejected = results.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        var scrape = await guard.ScrapeAsync();

        Assert.All(results, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"unexpected {r.Status}"));
        Assert.NotEmpty(rejected);
        Assert.All(rejected, r => Assert.True(r.Elapsed < queueTimeout + TimeSpan.FromSeconds(1), $"503 after {r.Elapsed}"));
        Assert.All(rejected, r => Assert.True(r.RetryAfter, "503 without Retry-After"));
        Assert.InRange(upstream.MaxOpenConnections, 1, 20);
        Assert.Equal(results.Count(r => r.Status == HttpStatusCode.OK), upstream.Requests);
        Assert.Equal(rejected.Count, scrape.Sum("connleakguard_outbound_queue_rejected_total"));
    }

    [Fact]
    public async Task RandomClientAborts_NeverLeakSlots()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            await Task.Delay(Random.Shared.Next(0, 20), context.RequestAborted);
            await context.Response.WriteAsync("ok", context.RequestAborted);
        };
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:MaxConnectionsPerHost"] = "2",
            ["ConnLeakGuard:Outbound:MaxPendingRequests"] = "100",
            ["ConnLeakGuard:Outbound:QueueTimeout"] = "30s",
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "5000",
        });
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };

        var failures = new List<string>();
        for (var round = 0; round < 200; round++)
        {
            var requests = Enumerable.Range(0, 20).Select(i => SendMaybeAbortedAsync(client, abort: i % 2 == 0)).ToList();
            foreach (var outcome in await Task.WhenAll(requests))
            {
                if (outcome is not null)
                {
                    failures.Add($"round {round}: {outcome}");
                }
            }
        }

        var pending = double.NaN;
        for (var attempt = 0; attempt < 20 && pending != 0; attempt++)
        {
            pending = (await guard.ScrapeAsync()).Sum("connleakguard_outbound_queue_pending");
            await Task.Delay(100);
        }

        var stopwatch = Stopwatch.StartNew();
        using var final = await client.GetAsync("/final");
        stopwatch.Stop();

        Assert.Empty(failures);
        Assert.Equal(0, pending);
        Assert.InRange(upstream.MaxOpenConnections, 1, 2);
        Assert.Equal(HttpStatusCode.OK, final.StatusCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"final request took {stopwatch.Elapsed}");
    }

    // Returns null when the request behaved: completed with 200, or was aborted by the client on purpose.
    private static async Task<string?> SendMaybeAbortedAsync(HttpClient client, bool abort)
    {
        using var cts = new CancellationTokenSource();
        if (abort)
        {
            cts.CancelAfter(Random.Shared.Next(0, 30));
        }

        try
        {
            using var response = await client.GetAsync("/work", cts.Token);
            var body = await response.Content.ReadAsStringAsync(cts.Token);
            return response.StatusCode == HttpStatusCode.OK && body == "ok" ? null : $"status {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (abort)
        {
            return null;
        }
        catch (HttpRequestException ex)
        {
            return abort ? null : ex.Message;
        }
    }

    private static async Task<TestUpstream> StartDelayedUpstreamAsync(TimeSpan delay)
    {
        var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            await Task.Delay(delay, context.RequestAborted);
            await context.Response.WriteAsync("ok", context.RequestAborted);
        };
        return upstream;
    }

    // Opens every connection first, then sends one request on each at once, so the time measured per
    // request starts when its request is sent and excludes connection set-up.
    private static async Task<List<(HttpStatusCode Status, TimeSpan Elapsed, bool RetryAfter)>> SendConcurrentlyAsync(GuardProcess guard, int count)
    {
        var sockets = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var batch = 0; batch < count; batch += 100)
            {
                sockets.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(100, count - batch)).Select(_ => RawHttp.ConnectAsync(guard.ProxyEndPoint))));
            }

            var tasks = sockets.Select(async socket =>
            {
                var stopwatch = Stopwatch.StartNew();
                await RawHttp.SendAsync(socket, "GET /work HTTP/1.1\r\nHost: test\r\n\r\n");
                var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(120));
                var status = (HttpStatusCode)(response?.StatusCode ?? 0);
                return (status, stopwatch.Elapsed, response?.Headers.ContainsKey("Retry-After") == true);
            });
            return [.. await Task.WhenAll(tasks)];
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }
}
