using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Admin;

/// <summary>
/// The leak report: a connection stalled past <c>LeakDetection:StalledThreshold</c> is listed at
/// <c>/debug/leaks</c>, counted by the gauge and logged once, and leaves both when it closes.
/// </summary>
public sealed class LeakReportTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task StalledConnection_ReportedOnceThenGoneWhenClosed()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:LeakDetection:StalledThreshold"] = "2s",
            ["ConnLeakGuard:Inbound:RequestHeadersTimeout"] = "1m",
        });
        using var debug = new DebugClient(guard.AdminUri);
        using var active = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        using var stopActive = new CancellationTokenSource();
        var activeRequests = KeepBusyAsync(active, stopActive.Token);
        using var stalled = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        var stalledPort = DebugClient.PortOf(stalled);

        var leaks = await debug.WaitForAsync("/debug/leaks", r => r.InboundFrom(stalledPort) is not null, s_timeout);
        var row = leaks.InboundFrom(stalledPort);

        Assert.NotNull(row);
        Assert.Equal("stalled", row.LeakReason);
        Assert.Equal("awaiting_headers", row.State);
        Assert.True(row.StateSeconds >= 2, $"listed after {row.StateSeconds} s in its state");
        Assert.Equal(2, leaks.StalledThresholdSeconds);
        Assert.Equal(1, leaks.Totals["inbound"].States["awaiting_headers"]);
        Assert.Null(leaks.InboundFrom(DebugClient.PortOf(active)));

        // Two more sweeps of the leak monitor pass, so a second log line for the same connection would show.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var scrape = await Telemetry.ScrapeWaiter.WaitForAsync(
            guard, "connleakguard_connections_suspected_leaks", 1, s_timeout, ("side", "inbound"), ("state", "awaiting_headers"));
        Assert.Equal(1, scrape.Sum("connleakguard_connections_suspected_leaks", ("side", "inbound"), ("state", "awaiting_headers")));
        Assert.Equal(1, scrape.Sum("connleakguard_connections_suspected_leaks"));
        Assert.Null((await debug.GetAsync("/debug/leaks")).InboundFrom(DebugClient.PortOf(active)));

        var line = await guard.WaitForSingleLogEventAsync("SuspectedConnectionLeak", s_timeout);
        Assert.Equal(row.Id, line.GetProperty("ConnectionId").GetString());
        Assert.Equal("awaiting_headers", line.GetProperty("State").GetString());
        Assert.Equal(guard.ProxyEndPoint.Port, line.GetProperty("LocalPort").GetInt32());

        stalled.Dispose();
        var after = await debug.WaitForAsync("/debug/leaks", r => r.Listed == 0, s_timeout);
        Assert.Empty(after.Connections);
        var cleared = await WaitForNoSuspectsAsync(guard, s_timeout);
        Assert.Equal(0, cleared.Sum("connleakguard_connections_suspected_leaks"));

        await stopActive.CancelAsync();
        Assert.True(await activeRequests > 0);
    }

    // Sends a request every half second until cancelled, so the connection never sits idle for 2 s.
    // Returns the number of responses received.
    private static async Task<int> KeepBusyAsync(Socket socket, CancellationToken cancellationToken)
    {
        var answered = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.Equal(200, (await RawHttp.ReadResponseAsync(socket, s_timeout))?.StatusCode);
            answered++;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return answered;
    }

    private static async Task<PrometheusScrape> WaitForNoSuspectsAsync(GuardProcess guard, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var scrape = await guard.ScrapeAsync();
        while (scrape.Sum("connleakguard_connections_suspected_leaks") != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            scrape = await guard.ScrapeAsync();
        }

        return scrape;
    }
}
