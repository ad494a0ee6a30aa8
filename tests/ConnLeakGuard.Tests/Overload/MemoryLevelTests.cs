using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// The real guard in front of a test upstream, reading a fake cgroup whose working set the test raises
/// and lowers. Each level's action is observed from the outside: socket closes, response headers,
/// upstream connections, readiness and the overload metrics.
/// </summary>
[Collection(SequentialTests.Name)]
public sealed class MemoryLevelTests
{
    // Configured values; with TimeoutScale 25% the keep-alive and pooled idle timeouts become 4 s and the
    // headers timeout 3 s from level Elevated on.
    private const string KeepAliveTimeout = "16s";
    private const string HeadersTimeout = "12s";
    private const string PooledIdleTimeout = "16s";
    private static readonly TimeSpan s_scaledKeepAlive = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan s_scaledHeadersTimeout = TimeSpan.FromSeconds(3);

    // Slack for the guard's sampling (100 ms), its sweeper (250 ms) and Kestrel's one-second heartbeat.
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task FakeCgroup_WalksThroughLevelsAndBack()
    {
        using var cgroup = new FakeCgroup();
        cgroup.SetWorkingSet(0.50);
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            if (context.Request.Path == "/slow")
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            await context.Response.WriteAsync("ok");
        };

        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Overload:CgroupRoot"] = cgroup.Root,
            ["ConnLeakGuard:Overload:SampleInterval"] = "100ms",
            ["ConnLeakGuard:Overload:RecoveryHoldTime"] = "1s",
            ["ConnLeakGuard:Overload:RecoveryMargin"] = "5%",
            ["ConnLeakGuard:Overload:MemoryElevated"] = "70%",
            ["ConnLeakGuard:Overload:MemoryHigh"] = "85%",
            ["ConnLeakGuard:Overload:MemoryCritical"] = "95%",
            ["ConnLeakGuard:Overload:TimeoutScale"] = "25%",
            ["ConnLeakGuard:Inbound:KeepAliveTimeout"] = KeepAliveTimeout,
            ["ConnLeakGuard:Inbound:RequestHeadersTimeout"] = HeadersTimeout,
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = PooledIdleTimeout,
        });

        var sockets = new List<Socket>();
        try
        {
            // Normal: an idle keep-alive connection and its pooled upstream connection outlive the scaled
            // timeouts, because the configured ones (16 s) apply.
            Assert.Equal(0, await WaitForLevelAsync(guard, 0));
            var normalIdle = await OpenAndRequestAsync(guard, sockets, "/");
            Assert.False(await RawHttp.WaitForCloseAsync(normalIdle, s_scaledKeepAlive + TimeSpan.FromSeconds(1)), "an idle connection closed at level normal");
            Assert.Equal(1, upstream.OpenConnections);

            // Elevated: the same connections are now idle longer than the scaled timeouts and close.
            cgroup.SetWorkingSet(0.75);
            Assert.Equal(1, await WaitForLevelAsync(guard, 1));
            Assert.True(await RawHttp.WaitForCloseAsync(normalIdle, s_slack), "the idle connection stayed open at level elevated");
            Assert.True(await TestUpstream.WaitForAsync(() => upstream.OpenConnections == 0, s_slack), "the idle upstream connection stayed open at level elevated");

            // A new idle connection closes at the scaled keep-alive timeout, well before the configured 16 s.
            // Unfinished headers get Kestrel's 408 at the scaled headers timeout, which shows that Kestrel's
            // own limits were scaled: the guard's sweeper would abort the connection without a response.
            var elevatedIdle = await OpenAndRequestAsync(guard, sockets, "/");
            var partialHeaders = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            sockets.Add(partialHeaders);
            await RawHttp.SendAsync(partialHeaders, "GET / HTTP/1.1\r\nHost: test\r\n");
            var idleClosed = RawHttp.WaitForCloseAsync(elevatedIdle, s_scaledKeepAlive + s_slack);
            var headersResponse = RawHttp.ReadResponseAsync(partialHeaders, s_scaledHeadersTimeout + s_slack);
            Assert.True(await idleClosed, "an idle connection outlived the scaled keep-alive timeout");
            Assert.Equal(408, (await headersResponse)?.StatusCode);

            // High: an idle connection closes at once, and a response carries Connection: close.
            var highIdle = await OpenAndRequestAsync(guard, sockets, "/");
            cgroup.SetWorkingSet(0.88);
            Assert.Equal(2, await WaitForLevelAsync(guard, 2));
            Assert.True(await RawHttp.WaitForCloseAsync(highIdle, s_slack), "an idle connection stayed open at level high");

            var highRequest = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            sockets.Add(highRequest);
            await RawHttp.SendAsync(highRequest, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            var highResponse = await RawHttp.ReadResponseAsync(highRequest, TimeSpan.FromSeconds(10));
            Assert.Equal(200, highResponse?.StatusCode);
            Assert.True(highResponse!.ConnectionClose, "a response at level high lacked Connection: close");
            Assert.True(await TestUpstream.WaitForAsync(() => upstream.OpenConnections == 0, s_slack), "the idle upstream connection stayed open at level high");

            // Critical: a request in flight is still served, a connection accepted just before gets 503 for
            // its first request, a new connection is closed without a response, and readiness fails.
            var inFlight = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            sockets.Add(inFlight);
            await RawHttp.SendAsync(inFlight, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.True(await TestUpstream.WaitForAsync(() => upstream.Requests >= 5, TimeSpan.FromSeconds(5)), "the slow request did not reach the upstream");
            var acceptedBefore = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            sockets.Add(acceptedBefore);
            cgroup.SetWorkingSet(0.97);
            Assert.Equal(3, await WaitForLevelAsync(guard, 3));

            // The guard aborts a connection that has not sent its headers within a second at this level, so
            // the request goes out as soon as the level is seen.
            await RawHttp.SendAsync(acceptedBefore, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            var lateResponse = await RawHttp.ReadResponseAsync(acceptedBefore, TimeSpan.FromSeconds(5));
            Assert.Equal(503, lateResponse?.StatusCode);
            Assert.True(lateResponse!.ConnectionClose, "the 503 at level critical lacked Connection: close");
            Assert.Equal("1", lateResponse.Headers.GetValueOrDefault("retry-after"));

            var rejected = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            sockets.Add(rejected);
            await RawHttp.SendAsync(rejected, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.Null(await RawHttp.ReadResponseAsync(rejected, TimeSpan.FromSeconds(5)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetReadinessAsync(guard));

            var inFlightResponse = await RawHttp.ReadResponseAsync(inFlight, TimeSpan.FromSeconds(10));
            Assert.Equal(200, inFlightResponse?.StatusCode);

            // Recovery: a dip within the margin keeps the level, each drop waits for the hold time, and
            // a signal hovering around a threshold does not switch the level back and forth.
            cgroup.SetWorkingSet(0.92);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.Equal(3, await ReadLevelAsync(guard));

            cgroup.SetWorkingSet(0.88);
            Assert.Equal(2, await WaitForLevelAsync(guard, 2));
            await HoverAsync(cgroup, 0.84, 0.86, TimeSpan.FromSeconds(2));
            Assert.Equal(2, await ReadLevelAsync(guard));

            cgroup.SetWorkingSet(0.75);
            Assert.Equal(1, await WaitForLevelAsync(guard, 1));
            await HoverAsync(cgroup, 0.60, 0.72, TimeSpan.FromSeconds(2));
            Assert.Equal(1, await ReadLevelAsync(guard));

            cgroup.SetWorkingSet(0.60);
            Assert.Equal(0, await WaitForLevelAsync(guard, 0));
            Assert.Equal(HttpStatusCode.OK, await GetReadinessAsync(guard));
            await OpenAndRequestAsync(guard, sockets, "/");

            var scrape = await guard.ScrapeAsync();
            var expected = new[]
            {
                ("normal", "elevated"), ("elevated", "high"), ("high", "critical"),
                ("critical", "high"), ("high", "elevated"), ("elevated", "normal"),
            };
            foreach (var (from, to) in expected)
            {
                Assert.True(
                    scrape.Sum("connleakguard_overload_transitions_total", ("signal", "memory"), ("from", from), ("to", to)) == 1,
                    $"expected exactly one memory transition {from} -> {to}\n{Transitions(scrape)}");
            }

            Assert.Equal(expected.Length, scrape.Sum("connleakguard_overload_transitions_total", ("signal", "memory")));
            Assert.Equal(0, scrape.Sum("connleakguard_overload_transitions_total", ("signal", "file_descriptors")));
            Assert.True(scrape.Sum("connleakguard_overload_shed_total", ("action", "inbound_idle_expired")) >= 1, "no idle connection counted at level elevated");
            Assert.True(scrape.Sum("connleakguard_overload_shed_total", ("action", "inbound_idle_closed")) >= 1, "no idle connection counted at level high");
            Assert.True(scrape.Sum("connleakguard_overload_shed_total", ("action", "inbound_close_after_response")) >= 1, "no close after response counted at level high");
            Assert.True(scrape.Sum("connleakguard_overload_shed_total", ("action", "inbound_connection_rejected")) >= 1, "no rejected connection counted at level critical");
            Assert.Equal(1, scrape.Sum("connleakguard_overload_shed_total", ("action", "inbound_request_rejected")));
            Assert.Equal(1, scrape.Sum("connleakguard_inbound_requests_rejected_total", ("reason", "overload"), ("status", "503")));
            Assert.True(scrape.Sum("connleakguard_overload_shed_total", ("action", "outbound_idle_expired")) >= 1, "no idle upstream connection counted at level elevated");
            Assert.True(scrape.Sum("connleakguard_inbound_connections_closed_total", ("reason", "overload")) >= 3, "overload closes missing from the close counter");

            var logged = guard.GetLogEvents("OverloadLevelRose").Count + guard.GetLogEvents("OverloadLevelFell").Count;
            Assert.Equal(expected.Length, logged);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private static async Task<Socket> OpenAndRequestAsync(GuardProcess guard, List<Socket> sockets, string path)
    {
        var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        sockets.Add(socket);
        await RawHttp.SendAsync(socket, $"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
        Assert.Equal(200, response?.StatusCode);
        return socket;
    }

    // Alternates the working set between two values every 200 ms for the given time.
    private static async Task HoverAsync(FakeCgroup cgroup, double low, double high, TimeSpan duration)
    {
        var deadline = DateTime.UtcNow + duration;
        var useLow = true;
        while (DateTime.UtcNow < deadline)
        {
            cgroup.SetWorkingSet(useLow ? low : high);
            useLow = !useLow;
            await Task.Delay(200);
        }

        cgroup.SetWorkingSet(high);
    }

    private static async Task<int> ReadLevelAsync(GuardProcess guard)
    {
        var scrape = await guard.ScrapeAsync();
        return (int)scrape.Sum("connleakguard_overload_level", ("signal", "memory"));
    }

    // Returns the memory level once it equals the expected one, or the last level read after 5 s.
    private static async Task<int> WaitForLevelAsync(GuardProcess guard, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var level = await ReadLevelAsync(guard);
        while (level != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            level = await ReadLevelAsync(guard);
        }

        return level;
    }

    private static async Task<HttpStatusCode> GetReadinessAsync(GuardProcess guard)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/ready"));
        return response.StatusCode;
    }

    private static string Transitions(PrometheusScrape scrape) =>
        string.Join('\n', scrape.Text.Split('\n').Where(line => line.StartsWith("connleakguard_overload_transitions_total", StringComparison.Ordinal)));
}
