using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ConnLeakGuard.Tests.Outbound;

[Collection(SequentialTests.Name)]
public sealed class UpstreamFailureTests
{
    [Fact]
    public async Task SilentUpstream_Gets504AndFreshConnection()
    {
        await using var silent = await SilentUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(silent.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:ResponseHeadersTimeout"] = "2s",
        });
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };

        // The first request also pays for the guard's warm-up (JIT, first connect), so the second is timed.
        using var first = await client.GetAsync("/never");
        var stopwatch = Stopwatch.StartNew();
        using var second = await client.GetAsync("/never-again");
        var elapsed = stopwatch.Elapsed;

        Assert.Equal(HttpStatusCode.GatewayTimeout, first.StatusCode);
        Assert.True(elapsed > TimeSpan.FromSeconds(1) && elapsed < TimeSpan.FromSeconds(3), $"{elapsed}\n{string.Join('\n', guard.Lines.TakeLast(20))}");
        Assert.Equal(HttpStatusCode.GatewayTimeout, second.StatusCode);
        Assert.Equal(2, silent.AcceptedConnections);
        Assert.Equal(2, (await guard.ScrapeAsync()).Sum("connleakguard_outbound_failures_total", ("kind", "response_timeout")));
    }

    [Fact]
    public async Task ClosedPort_Gets502Fast()
    {
        var closedPort = FreePort();
        await using var guard = await GuardProcess.StartAsync(new Uri($"http://127.0.0.1:{closedPort}"), new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:ConnectTimeout"] = "5s",
        });
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };

        var stopwatch = Stopwatch.StartNew();
        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"502 after {stopwatch.Elapsed}");
        Assert.Equal(1, (await guard.ScrapeAsync()).Sum("connleakguard_outbound_failures_total", ("kind", "refused")));
    }

    [Fact]
    public async Task FullAcceptQueue_Gets504ConnectTimeout()
    {
        // A listener that never accepts: once its accept queue is full, the kernel drops further SYNs, so a
        // connect hangs until the guard's connect timeout.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var attempt = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    await filler.ConnectAsync(endPoint, attempt.Token);
                }
                catch (OperationCanceledException)
                {
                    // The queue is full: this SYN was dropped.
                }
            }

            await using var guard = await GuardProcess.StartAsync(new Uri($"http://{endPoint}"), new Dictionary<string, string>
            {
                ["ConnLeakGuard:Outbound:ConnectTimeout"] = "1s",
            });
            using var client = new HttpClient { BaseAddress = guard.ProxyUri };

            var stopwatch = Stopwatch.StartNew();
            using var response = await client.GetAsync("/");

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(0.9), $"504 after {stopwatch.Elapsed}");
            Assert.Equal(1, (await guard.ScrapeAsync()).Sum("connleakguard_outbound_failures_total", ("kind", "connect_timeout")));
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task ClientDisconnect_AbortsUpstreamRequest()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context => await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);

        using (var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint))
        {
            await RawHttp.SendAsync(socket, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.True(await TestUpstream.WaitForAsync(() => upstream.Requests == 1, TimeSpan.FromSeconds(5)));
        }

        var stopwatch = Stopwatch.StartNew();
        var aborted = await TestUpstream.WaitForAsync(() => upstream.AbortedRequests == 1, TimeSpan.FromSeconds(5));

        Assert.True(aborted, "the upstream request was not aborted");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"aborted after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task IdleConnectionClosedByUpstream_IsNot502()
    {
        await using var upstream = await TestUpstream.StartAsync(HttpProtocols.Http1, TimeSpan.FromSeconds(1));
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = "30s",
        });
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync("/");
            statuses.Add(response.StatusCode);

            // Longer than the upstream's 1 s keep-alive timeout: the pooled connection is closed meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(3.5));
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(upstream.AcceptedConnections >= 4, $"{upstream.AcceptedConnections} connections: the upstream did not close idle ones");
    }

    [Fact]
    public async Task Http2Upstream_NeverExceedsCap()
    {
        const int cap = 3;
        await using var upstream = await TestUpstream.StartAsync(HttpProtocols.Http2);
        upstream.Handler = async context =>
        {
            await Task.Delay(50, context.RequestAborted);
            await context.Response.WriteAsync(context.Request.Protocol, context.RequestAborted);
        };
        var config = GuardProcess.BuildConfig(upstream.Uri).Replace(
            "\"Destinations\": {",
            "\"HttpRequest\": { \"Version\": \"2\", \"VersionPolicy\": \"RequestVersionExact\" }, \"Destinations\": {",
            StringComparison.Ordinal);
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:MaxConnectionsPerHost"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConnLeakGuard:Outbound:QueueTimeout"] = "60s",
            ["ConnLeakGuard:Outbound:ResponseHeadersTimeout"] = "90s",
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "5000",
        }, config);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 200 };
        using var client = new HttpClient(handler) { BaseAddress = guard.ProxyUri };

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await client.GetAsync("/h2");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.True(responses.All(r => r.StatusCode == HttpStatusCode.OK), string.Join('\n', guard.Lines.TakeLast(20)));
        Assert.All(responses, r => Assert.Equal("HTTP/2", r.Body));
        Assert.InRange(upstream.MaxOpenConnections, 1, cap);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
