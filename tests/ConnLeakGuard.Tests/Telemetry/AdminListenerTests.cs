using System.Net;
using Microsoft.AspNetCore.Http;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>
/// The admin endpoints exist only on the admin listener: the proxy port forwards those paths to the upstream,
/// and the admin listener never forwards anything, whatever the Host header contains.
/// </summary>
public sealed class AdminListenerTests
{
    [Theory]
    [InlineData("/metrics")]
    [InlineData("/healthz/live")]
    [InlineData("/healthz/ready")]
    public async Task ProxyPort_AdminPath_ReturnsUpstreamAnswer(string path)
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = static context => context.Response.WriteAsync("upstream saw " + context.Request.Path);
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        var body = await client.GetStringAsync(new Uri(guard.ProxyUri, path));

        Assert.Equal("upstream saw " + path, body);
        Assert.DoesNotContain("# TYPE", body, StringComparison.Ordinal);
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task AdminPort_ProxyHost_NotForwarded()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);

        using var socket = await RawHttp.ConnectAsync(guard.AdminEndPoint);
        await RawHttp.SendAsync(socket, $"GET /anything HTTP/1.1\r\nHost: {guard.ProxyEndPoint}\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        Assert.Equal(404, response?.StatusCode);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task AdminPort_Metrics_ServesGuardExposition()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(guard.AdminUri, "/metrics"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE kestrel_active_connections gauge", body, StringComparison.Ordinal);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task AdminPort_ProxyLimits_DoNotApply()
    {
        // The proxy listener allows one request per connection and one connection per client. The admin
        // listener must still serve many requests on one connection while a proxy connection is at its cap.
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxRequestsPerConnection"] = "1",
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "1",
        });

        using var proxyConnection = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(proxyConnection, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(proxyConnection, TimeSpan.FromSeconds(10)))?.StatusCode);

        using var admin = await RawHttp.ConnectAsync(guard.AdminEndPoint);
        for (var i = 0; i < 5; i++)
        {
            await RawHttp.SendAsync(admin, "GET /healthz/live HTTP/1.1\r\nHost: admin\r\n\r\n");
            var response = await RawHttp.ReadResponseAsync(admin, TimeSpan.FromSeconds(10));

            Assert.Equal(200, response?.StatusCode);
            Assert.False(response!.ConnectionClose, $"admin response {i + 1} closed the connection");
        }

        var scrape = await guard.ScrapeAsync();
        Assert.Equal(0, scrape.Sum("connleakguard_inbound_connections_closed_total", ("reason", "max_connections_per_client_ip")));
        Assert.Equal(1, scrape.Sum("connleakguard_forwarder_requests_total"));
    }
}
