using Microsoft.AspNetCore.Http;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>Traces leave the guard through OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
public sealed class OtlpExporterTests
{
    [Fact]
    public async Task Otlp_EndpointSet_ExportsTraces()
    {
        await using var collector = await StartCollectorAsync();
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, OtlpSettings(collector.Uri));
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/"));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.True(await TestUpstream.WaitForAsync(() => collector.Requests > 0, TimeSpan.FromSeconds(15)), "no OTLP export arrived");
    }

    [Fact]
    public async Task Otlp_EndpointUnset_ExportsNothing()
    {
        await using var collector = await StartCollectorAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var settings = OtlpSettings(collector.Uri);
        settings.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, settings);
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/"));
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, collector.Requests);
    }

    private static Dictionary<string, string> OtlpSettings(Uri collector) => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    // A stand-in collector: OTLP over HTTP is a POST to /v1/traces, which is all the test needs to see.
    private static async Task<TestUpstream> StartCollectorAsync()
    {
        var collector = await TestUpstream.StartAsync();
        collector.Handler = static context =>
        {
            context.Response.StatusCode = context.Request.Path == "/v1/traces" ? StatusCodes.Status200OK : StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
        return collector;
    }
}
