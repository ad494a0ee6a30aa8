using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>YARP's forwarder outcomes, bridged into the guard's meter.</summary>
public sealed class ForwarderMetricsTests
{
    [Fact]
    public async Task Forwarder_Success_CountsOutcomeAndStages()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        for (var i = 0; i < 3; i++)
        {
            using var content = new StringContent("body");
            using var response = await client.PostAsync(new Uri(guard.ProxyUri, "/"), content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var scrape = await ScrapeWaiter.WaitForAsync(guard, "connleakguard_forwarder_requests_total", 3, TimeSpan.FromSeconds(10));
        Assert.Equal(3, scrape.Sum("connleakguard_forwarder_requests_total", ("cluster", "app"), ("outcome", "success")));
        Assert.Equal(0, scrape.Sum("connleakguard_forwarder_failures_total"));
        Assert.Equal(3, scrape.Sum("connleakguard_forwarder_stage_duration_seconds_count", ("stage", "send")));
        Assert.Equal(3, scrape.Sum("connleakguard_forwarder_stage_duration_seconds_count", ("stage", "request_content")));
        Assert.Equal(3, scrape.Sum("connleakguard_forwarder_stage_duration_seconds_count", ("stage", "response_content")));
    }

    [Fact]
    public async Task Forwarder_UpstreamRefused_CountsRequestError()
    {
        // A port that was free a moment ago: connecting to it is refused.
        using var reserved = new TcpListener(IPAddress.Loopback, 0);
        reserved.Start();
        var closedPort = ((IPEndPoint)reserved.LocalEndpoint).Port;
        reserved.Stop();

        await using var guard = await GuardProcess.StartAsync(new Uri($"http://127.0.0.1:{closedPort}"));
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var scrape = await ScrapeWaiter.WaitForAsync(guard, "connleakguard_forwarder_failures_total", 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, scrape.Sum("connleakguard_forwarder_failures_total", ("cluster", "app"), ("error", "request")));
        Assert.Equal(1, scrape.Sum("connleakguard_forwarder_requests_total", ("outcome", "upstream_error")));

        var line = await guard.WaitForSingleLogEventAsync("ProxyRequestCompleted", TimeSpan.FromSeconds(10));
        Assert.Equal(502, line.GetProperty("StatusCode").GetInt32());
        Assert.Equal("request", line.GetProperty("ForwarderError").GetString());
    }
}
