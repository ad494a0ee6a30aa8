using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>
/// Each inbound limit, once enforced, shows up on <c>/metrics</c> under its own reason: exactly one close per
/// offending connection, and one rejection with the status the client received where a status is sent.
/// </summary>
public sealed class LimitCounterTests
{
    private const string Closed = "connleakguard_inbound_connections_closed_total";
    private const string Rejected = "connleakguard_inbound_requests_rejected_total";
    private static readonly TimeSpan s_counterTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_responseTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RequestHeadersTimeout_PartialHeaders_CountsReason()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:RequestHeadersTimeout", "1s"));

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n");
        Assert.True(await RawHttp.WaitForCloseAsync(socket, s_counterTimeout), "the guard did not close a connection with unfinished headers");

        await AssertClosedOnceAsync(guard, "request_headers_timeout");
    }

    [Fact]
    public async Task RequestHeadersTimeout_SilentConnection_CountsReasonOnce()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:RequestHeadersTimeout", "1s"));

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        Assert.True(await RawHttp.WaitForCloseAsync(socket, s_counterTimeout), "the guard did not close a connection that never sent a byte");

        await AssertClosedOnceAsync(guard, "request_headers_timeout");
    }

    [Fact]
    public async Task KeepAliveTimeout_IdleConnection_CountsReason()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:KeepAliveTimeout", "1s"));

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(socket, s_responseTimeout))?.StatusCode);
        Assert.True(await RawHttp.WaitForCloseAsync(socket, s_counterTimeout), "the idle keep-alive connection was not closed");

        await AssertClosedOnceAsync(guard, "keep_alive_timeout");
    }

    [Fact]
    public async Task MaxRequestHeaderSize_OneLongHeader_Counts431()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(
            upstream,
            ("ConnLeakGuard:Inbound:MaxRequestHeaderSize", "1KiB"),
            ("ConnLeakGuard:Inbound:MaxRequestHeadersTotalSize", "8KiB"));

        var status = await SendAndReadStatusAsync(guard, $"GET / HTTP/1.1\r\nHost: test\r\nX-Long: {new string('a', 1500)}\r\n\r\n");

        Assert.Equal(431, status);
        await AssertRejectedOnceAsync(guard, "max_request_header_size", 431);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task MaxRequestHeadersTotalSize_ManyHeaders_Counts431()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(
            upstream,
            ("ConnLeakGuard:Inbound:MaxRequestHeaderSize", "1KiB"),
            ("ConnLeakGuard:Inbound:MaxRequestHeadersTotalSize", "2KiB"));

        var headers = string.Concat(Enumerable.Range(0, 4).Select(i => $"X-Part-{i}: {new string('b', 900)}\r\n"));
        var status = await SendAndReadStatusAsync(guard, $"GET / HTTP/1.1\r\nHost: test\r\n{headers}\r\n");

        Assert.Equal(431, status);
        await AssertRejectedOnceAsync(guard, "max_request_headers_total_size", 431);
    }

    [Fact]
    public async Task MaxRequestHeaderCount_TooManyHeaders_Counts431()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:MaxRequestHeaderCount", "5"));

        var headers = string.Concat(Enumerable.Range(0, 10).Select(i => $"X-Count-{i}: {i}\r\n"));
        var status = await SendAndReadStatusAsync(guard, $"GET / HTTP/1.1\r\nHost: test\r\n{headers}\r\n");

        Assert.Equal(431, status);
        await AssertRejectedOnceAsync(guard, "max_request_header_count", 431);
    }

    [Fact]
    public async Task MaxRequestLineSize_LongTarget_Counts414()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:MaxRequestLineSize", "512"));

        var status = await SendAndReadStatusAsync(guard, $"GET /{new string('c', 1000)} HTTP/1.1\r\nHost: test\r\n\r\n");

        Assert.Equal(414, status);
        await AssertRejectedOnceAsync(guard, "max_request_line_size", 414);
    }

    [Fact]
    public async Task MaxRequestBodySize_ContentLength_Counts413()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:MaxRequestBodySize", "1KiB"));

        var status = await SendAndReadStatusAsync(guard, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4096\r\n\r\n");

        Assert.Equal(413, status);
        await AssertRejectedOnceAsync(guard, "max_request_body_size", 413);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task PerClientIpCap_ExtraConnection_Counted()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:MaxConnectionsPerClientIp", "2"));

        var heldConnections = new List<Socket>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
                heldConnections.Add(socket);
                await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
                Assert.Equal(200, (await RawHttp.ReadResponseAsync(socket, s_responseTimeout))?.StatusCode);
            }

            using var extra = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            Assert.True(await RawHttp.WaitForCloseAsync(extra, s_counterTimeout), "the connection over the per-IP cap was left open");

            await AssertClosedOnceAsync(guard, "max_connections_per_client_ip");
        }
        finally
        {
            heldConnections.ForEach(socket => socket.Dispose());
        }
    }

    [Fact]
    public async Task GlobalCap_ExtraConnection_Counted()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:MaxConcurrentConnections", "2"));

        var heldConnections = new List<Socket>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
                heldConnections.Add(socket);
                await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
                Assert.Equal(200, (await RawHttp.ReadResponseAsync(socket, s_responseTimeout))?.StatusCode);
            }

            using var extra = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            Assert.True(await RawHttp.WaitForCloseAsync(extra, s_counterTimeout), "the connection over the global cap was left open");

            // The cap belongs to the proxy listener: the scrape itself is a third connection and must succeed.
            var scrape = await AssertClosedOnceAsync(guard, "max_concurrent_connections");
            Assert.Equal(1, scrape.Sum("kestrel_rejected_connections_total"));
        }
        finally
        {
            heldConnections.ForEach(socket => socket.Dispose());
        }
    }

    [Fact]
    public async Task MaxRequestsPerConnection_LastRequest_CountsReason()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartGuardAsync(upstream, ("ConnLeakGuard:Inbound:MaxRequestsPerConnection", "2"));

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        var first = await RawHttp.ReadResponseAsync(socket, s_responseTimeout);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        var second = await RawHttp.ReadResponseAsync(socket, s_responseTimeout);

        Assert.False(first?.ConnectionClose ?? true, "the first response already closed the connection");
        Assert.True(second?.ConnectionClose, "the last allowed response did not carry Connection: close");
        await AssertClosedOnceAsync(guard, "max_requests_per_connection");
    }

    private static Task<GuardProcess> StartGuardAsync(TestUpstream upstream, params (string Key, string Value)[] settings) =>
        GuardProcess.StartAsync(upstream.Uri, settings.ToDictionary(s => s.Key, s => s.Value));

    private static async Task<int?> SendAndReadStatusAsync(GuardProcess guard, string request)
    {
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, request);
        return (await RawHttp.ReadResponseAsync(socket, s_responseTimeout))?.StatusCode;
    }

    private static async Task<PrometheusScrape> AssertClosedOnceAsync(GuardProcess guard, string reason)
    {
        var scrape = await ScrapeWaiter.WaitForAsync(guard, Closed, 1, s_counterTimeout, ("reason", reason));
        Assert.True(scrape.Sum(Closed, ("reason", reason)) >= 1, $"no close counted for {reason}. {ScrapeWaiter.DescribeKestrelErrorTypes(scrape)}");

        // A second look after the counters settle catches a limit counted twice (by Kestrel and by the guard).
        await Task.Delay(500);
        scrape = await guard.ScrapeAsync();
        Assert.Equal(1, scrape.Sum(Closed, ("reason", reason)));
        Assert.True(scrape.Sum(Closed) == 1, "closes counted under other reasons:\n" + string.Join('\n', scrape.Text.Split('\n').Where(line => line.StartsWith(Closed, StringComparison.Ordinal))));
        return scrape;
    }

    private static async Task AssertRejectedOnceAsync(GuardProcess guard, string reason, int status)
    {
        var statusText = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var scrape = await ScrapeWaiter.WaitForAsync(guard, Rejected, 1, s_counterTimeout, ("reason", reason), ("status", statusText));
        Assert.True(
            scrape.Sum(Rejected, ("reason", reason), ("status", statusText)) >= 1,
            $"no rejection counted for {reason} with {status}. {ScrapeWaiter.DescribeKestrelErrorTypes(scrape)}");

        await AssertClosedOnceAsync(guard, reason);
        scrape = await guard.ScrapeAsync();
        Assert.Equal(1, scrape.Sum(Rejected));
    }
}
