using Microsoft.AspNetCore.Http;

namespace ConnLeakGuard.Tests.Telemetry;

public sealed class TracePropagationTests
{
    private const string ClientTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientParentId = "00f067aa0ba902b7";

    [Fact]
    public async Task Traceparent_FromClient_KeepsTraceId()
    {
        await using var upstream = await TestUpstream.StartAsync();
        string? seen = null;
        upstream.Handler = context =>
        {
            seen = context.Request.Headers["traceparent"];
            return context.Response.WriteAsync("ok");
        };
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(guard.ProxyUri, "/"));
        request.Headers.Add("traceparent", $"00-{ClientTraceId}-{ClientParentId}-01");
        using var response = await client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(seen);
        var parts = seen!.Split('-');
        Assert.Equal(4, parts.Length);
        Assert.Equal(ClientTraceId, parts[1]);

        // The guard is a hop of its own: the upstream's parent is the guard's span, not the client's.
        Assert.NotEqual(ClientParentId, parts[2]);

        var line = await guard.WaitForSingleLogEventAsync("ProxyRequestCompleted", TimeSpan.FromSeconds(10));
        Assert.Equal(ClientTraceId, line.GetProperty("TraceId").GetString());
    }
}
