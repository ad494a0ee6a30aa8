namespace ConnLeakGuard.Tests.Admin;

/// <summary><c>connleakguard_connection_age_seconds</c>: the age of each connection when it closes, per side.</summary>
public sealed class ConnectionAgeMetricTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_held = TimeSpan.FromSeconds(1.2);

    [Fact]
    public async Task InboundClose_RecordsAgeOnce()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);

        using (var client = await RawHttp.ConnectAsync(guard.ProxyEndPoint))
        {
            await RawHttp.SendAsync(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.Equal(200, (await RawHttp.ReadResponseAsync(client, s_timeout))?.StatusCode);
            await Task.Delay(s_held);
        }

        var scrape = await Telemetry.ScrapeWaiter.WaitForAsync(guard, "connleakguard_connection_age_seconds_count", 1, s_timeout, ("side", "inbound"));

        Assert.Equal(1, scrape.Sum("connleakguard_connection_age_seconds_count", ("side", "inbound")));
        Assert.True(scrape.Sum("connleakguard_connection_age_seconds_sum", ("side", "inbound")) >= s_held.TotalSeconds);
        Assert.Equal(0, scrape.Sum("connleakguard_connection_age_seconds_bucket", ("side", "inbound"), ("le", "1")));
        Assert.Equal(1, scrape.Sum("connleakguard_connection_age_seconds_bucket", ("side", "inbound"), ("le", "5")));
    }

    [Fact]
    public async Task OutboundClose_RecordsAgeOnce()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = "5m",
        });
        using var debug = new DebugClient(guard.AdminUri);
        using var client = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(client, s_timeout))?.StatusCode);
        var pooled = Assert.Single((await debug.WaitForAsync("/debug/connections?side=outbound&state=idle", r => r.Listed == 1, s_timeout)).Connections);
        await Task.Delay(s_held);

        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await debug.CloseAsync(pooled.Id)).Status);
        var scrape = await Telemetry.ScrapeWaiter.WaitForAsync(guard, "connleakguard_connection_age_seconds_count", 1, s_timeout, ("side", "outbound"));

        Assert.Equal(1, scrape.Sum("connleakguard_connection_age_seconds_count", ("side", "outbound")));
        Assert.True(scrape.Sum("connleakguard_connection_age_seconds_sum", ("side", "outbound")) >= s_held.TotalSeconds);
        Assert.Equal(0, scrape.Sum("connleakguard_connection_age_seconds_count", ("side", "inbound")));
    }
}
