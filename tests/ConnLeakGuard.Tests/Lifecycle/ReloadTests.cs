using System.Net;

namespace ConnLeakGuard.Tests.Lifecycle;

[Collection(SequentialTests.Name)]
public sealed class ReloadTests
{
    private static readonly TimeSpan s_reloadTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConfigMapSymlinkSwap_AppliesNewConfiguration()
    {
        await using var first = await StartNamedUpstreamAsync("first");
        await using var second = await StartNamedUpstreamAsync("second");
        using var volume = new ConfigMapVolume();
        volume.Publish(GuardProcess.BuildConfig(first.Uri));
        await using var guard = await GuardProcess.StartAsync(first.Uri, configPath: volume.FilePath);
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };
        Assert.Equal("first", await client.GetStringAsync("/"));

        volume.Publish(GuardProcess.BuildConfig(second.Uri).Replace(
            "\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\" }",
            "\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\", \"MaxRequestHeaderCount\": 20 }",
            StringComparison.Ordinal));

        // YARP's routes and the guard's limits reload through separate callbacks, so the header check waits
        // for the guard's line that says its new limits are in force.
        var switched = await WaitForBodyAsync(client, "second");
        await guard.WaitForSingleLogEventAsync("ConfigurationReloaded", s_reloadTimeout);
        var manyHeaders = await SendWithHeadersAsync(guard, 30);
        var scrape = await guard.ScrapeAsync();

        Assert.True(switched, "requests still go to the first upstream after the swap");
        Assert.Equal(431, manyHeaders);
        Assert.Equal(1, scrape.Sum("connleakguard_config_reloads_total", ("result", "success")));
    }

    [Fact]
    public async Task InvalidValue_KeepsPreviousConfiguration()
    {
        await using var upstream = await StartNamedUpstreamAsync("app");
        using var volume = new ConfigMapVolume();
        var valid = GuardProcess.BuildConfig(upstream.Uri);
        volume.Publish(valid);
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, configPath: volume.FilePath);

        volume.Publish(valid.Replace(
            "\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\" }",
            "\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\", \"MaxRequestHeaderCount\": 20, \"KeepAliveTimeout\": \"100\" }",
            StringComparison.Ordinal));

        var rejected = await TestUpstream.WaitForAsync(() => guard.GetLogEvents("ConfigurationReloadRejected").Count > 0, s_reloadTimeout);
        var rejections = guard.GetLogEvents("ConfigurationReloadRejected");
        var manyHeaders = await SendWithHeadersAsync(guard, 30);
        var scrape = await guard.ScrapeAsync();

        Assert.True(rejected, "no rejection was logged");
        Assert.Equal("ConnLeakGuard:Inbound:KeepAliveTimeout", rejections[0].GetProperty("Key").GetString());
        Assert.Equal("100", rejections[0].GetProperty("Value").GetString());
        Assert.Equal(200, manyHeaders);
        Assert.Equal(1, scrape.Sum("connleakguard_config_reloads_total", ("result", "failure")));
        Assert.Equal(0, scrape.Sum("connleakguard_config_reloads_total", ("result", "success")));
    }

    [Fact]
    public async Task BrokenJson_KeepsPreviousConfiguration()
    {
        await using var upstream = await StartNamedUpstreamAsync("app");
        using var volume = new ConfigMapVolume();
        volume.Publish(GuardProcess.BuildConfig(upstream.Uri));
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, configPath: volume.FilePath);
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };

        volume.Publish("{ \"ReverseProxy\": { \"Routes\": ");

        var rejected = await TestUpstream.WaitForAsync(() => guard.GetLogEvents("ConfigurationFileRejected").Count > 0, s_reloadTimeout);
        var stillServed = await client.GetStringAsync("/");
        var scrape = await guard.ScrapeAsync();

        Assert.True(rejected, "no rejection was logged");
        Assert.Equal("app", stillServed);
        Assert.Equal(1, scrape.Sum("connleakguard_config_reloads_total", ("result", "failure")));
    }

    [Fact]
    public async Task ListenerChange_IsReportedRestartRequired()
    {
        await using var upstream = await StartNamedUpstreamAsync("app");
        using var volume = new ConfigMapVolume();
        volume.Publish(GuardProcess.BuildConfig(upstream.Uri));
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, configPath: volume.FilePath);

        volume.Publish(GuardProcess.BuildConfig(upstream.Uri).Replace("\"Urls\": \"http://127.0.0.1:0\" }", "\"Urls\": \"http://127.0.0.1:0;http://[::1]:0\" }", StringComparison.Ordinal));

        var reported = await TestUpstream.WaitForAsync(() => guard.GetLogEvents("ConfigurationRestartRequired").Count > 0, s_reloadTimeout);

        Assert.True(reported, "a listener change was applied silently");
        Assert.Equal("ConnLeakGuard:Inbound:Urls", guard.GetLogEvents("ConfigurationRestartRequired")[0].GetProperty("Key").GetString());
    }

    private static async Task<TestUpstream> StartNamedUpstreamAsync(string name)
    {
        var upstream = await TestUpstream.StartAsync();
        upstream.Handler = context => context.Response.WriteAsync(name);
        return upstream;
    }

    private static async Task<bool> WaitForBodyAsync(HttpClient client, string expected)
    {
        var deadline = DateTime.UtcNow + s_reloadTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await client.GetStringAsync("/") == expected)
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }

    private static async Task<int?> SendWithHeadersAsync(GuardProcess guard, int count)
    {
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        var headers = string.Concat(Enumerable.Range(0, count).Select(i => $"X-H{i}: v\r\n"));
        await RawHttp.SendAsync(socket, $"GET / HTTP/1.1\r\nHost: test\r\n{headers}\r\n");
        return (await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(5)))?.StatusCode;
    }
}
