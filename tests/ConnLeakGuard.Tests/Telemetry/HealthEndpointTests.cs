using System.Net;
using ConnLeakGuard.Lifecycle;
using Microsoft.Extensions.DependencyInjection;

namespace ConnLeakGuard.Tests.Telemetry;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Healthz_Started_LiveAndReady()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        using var live = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/live"));
        using var ready = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/ready"));
        var liveBody = await live.Content.ReadAsStringAsync();
        var readyBody = await ready.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.StartsWith("live\n", liveBody, StringComparison.Ordinal);
        Assert.Contains("heartbeat: healthy", liveBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("drain: healthy", readyBody, StringComparison.Ordinal);
        Assert.Contains("proxy_config: healthy", readyBody, StringComparison.Ordinal);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Ready_NotReadyReason_Returns503UntilWithdrawn()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await InProcessGuard.StartAsync(upstream.Uri);
        var readiness = guard.Services.GetRequiredService<GuardReadiness>();
        using var client = new HttpClient();

        readiness.SetNotReady("drain", "draining before shutdown");
        using var draining = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/ready"));
        var drainingBody = await draining.Content.ReadAsStringAsync();
        using var liveWhileDraining = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/live"));

        readiness.SetReady("drain");
        using var ready = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/ready"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
        Assert.StartsWith("not ready\n", drainingBody, StringComparison.Ordinal);
        Assert.Contains("draining before shutdown", drainingBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, liveWhileDraining.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Ready_ReloadEmptiesCluster_Returns503()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        var config = GuardProcess.BuildConfig(upstream.Uri)
            .Replace($"\"app\": {{ \"Address\": \"{upstream.Uri}\" }}", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain(upstream.Uri.ToString(), config, StringComparison.Ordinal);
        await File.WriteAllTextAsync(guard.ConfigPath, config);

        var notReady = false;
        for (var attempt = 0; attempt < 60 && !notReady; attempt++)
        {
            await Task.Delay(250);
            using var response = await client.GetAsync(new Uri(guard.AdminUri, "/healthz/ready"));
            notReady = response.StatusCode == HttpStatusCode.ServiceUnavailable;
        }

        var body = await client.GetStringAsync(new Uri(guard.AdminUri, "/healthz/live"));

        Assert.True(notReady, "ready stayed 200 after the cluster lost its destinations");
        Assert.StartsWith("live\n", body, StringComparison.Ordinal);
    }
}
