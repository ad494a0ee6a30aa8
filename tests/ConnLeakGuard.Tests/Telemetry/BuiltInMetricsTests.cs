using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>The framework meters that the guard exports next to its own, as they appear on a real scrape.</summary>
public sealed class BuiltInMetricsTests
{
    // Series that exist as soon as the guard has served one proxied request. Each is named as the exporter
    // writes it, with units and _total suffixes.
    private static readonly string[] s_expectedAfterTraffic =
    [
        "kestrel_active_connections",
        "kestrel_queued_connections",
        "http_server_request_duration_seconds_bucket",
        "http_server_active_requests",
        "http_client_open_connections",
        "http_client_active_requests",
        "http_client_request_duration_seconds_bucket",
        "http_client_request_time_in_queue_seconds_bucket",
        "dotnet_gc_heap_total_allocated_bytes_total",
        "dotnet_gc_last_collection_heap_size_bytes",
        "dotnet_thread_pool_thread_count",
        "dotnet_thread_pool_queue_length",
        "process_memory_usage_bytes",
        "process_cpu_time_seconds_total",
        "process_thread_count",
        "process_unix_file_descriptor_count",
        "connleakguard_forwarder_requests_total",
        "connleakguard_forwarder_stage_duration_seconds_bucket",
    ];

    [Fact]
    public async Task Scrape_AfterTraffic_HasFrameworkSeries()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();
        using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/"));

        var scrape = await ScrapeWaiter.WaitForAsync(guard, "connleakguard_forwarder_requests_total", 1, TimeSpan.FromSeconds(10));

        var missing = s_expectedAfterTraffic.Where(name => !scrape.Has(name)).ToList();
        Assert.True(missing.Count == 0, "missing series: " + string.Join(", ", missing));
        Assert.Equal(1, scrape.Sum("http_client_open_connections", ("http_connection_state", "idle")));
    }

    [Fact]
    public async Task Scrape_InboundConnectionClosed_HasConnectionDuration()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using (var client = new HttpClient())
        {
            using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/"));
        }

        // Disposing the client closes its connection, and Kestrel records the duration when the connection ends.
        var port = guard.ProxyEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var scrape = await ScrapeWaiter.WaitForAsync(guard, "kestrel_connection_duration_seconds_count", 1, TimeSpan.FromSeconds(10), ("server_port", port));

        Assert.Equal(1, scrape.Sum("kestrel_connection_duration_seconds_count", ("server_port", port)));
    }

    [Fact]
    public async Task Scrape_OutboundConnectionClosed_HasConnectionDuration()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = static context =>
        {
            context.Response.Headers.Connection = "close";
            return context.Response.WriteAsync("ok");
        };
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();
        using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/"));

        // The upstream closes the connection after its response, and HttpClient records the duration then.
        var scrape = await ScrapeWaiter.WaitForAsync(guard, "http_client_connection_duration_seconds_count", 1, TimeSpan.FromSeconds(15));

        Assert.Equal(1, scrape.Sum("http_client_connection_duration_seconds_count"));
        Assert.Equal(0, scrape.Sum("http_client_open_connections"));
    }

    [Fact]
    public async Task Scrape_UpgradedConnection_HasUpgradedGauge()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = static async context =>
        {
            var upgrade = context.Features.Get<IHttpUpgradeFeature>()!;
            context.Response.Headers.Upgrade = "websocket";
            await using var stream = await upgrade.UpgradeAsync();
            var buffer = new byte[16];
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        };
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET /socket HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
        Assert.Equal(101, response?.StatusCode);

        var scrape = await ScrapeWaiter.WaitForAsync(guard, "kestrel_upgraded_connections", 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, scrape.Sum("kestrel_upgraded_connections"));
    }

    [Fact]
    public async Task FileDescriptorGauge_MatchesProcFd()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);

        var scrape = await guard.ScrapeAsync();
        var reported = scrape.Sum("process_unix_file_descriptor_count");
        var actual = Directory.GetFileSystemEntries($"/proc/{guard.ProcessId}/fd").Length;

        // The scrape's own socket and timing make a small difference. A gauge that read another process or
        // a constant would be far off.
        Assert.InRange(reported, actual - 10, actual + 10);
        Assert.True(reported > 10, $"implausibly few descriptors: {reported}");
    }
}
