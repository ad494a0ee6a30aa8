using System.Net.Http.Headers;
using System.Text.Json;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>The per-request completion line and the limit lines: what they carry and what they never carry.</summary>
public sealed class RequestLogTests
{
    private const string Secret = "s3cr3t-token-4f9a1c";
    private static readonly TimeSpan s_logTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ProxiedRequest_WritesOneCompletionLine()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = static context => context.Response.WriteAsync(new string('r', 1234));
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        using var content = new StringContent(new string('q', 321));
        using var response = await client.PostAsync(new Uri(guard.ProxyUri, "/orders"), content);
        await response.Content.ReadAsStringAsync();

        var line = await guard.WaitForSingleLogEventAsync("ProxyRequestCompleted", s_logTimeout);
        Assert.Equal("POST", line.GetProperty("Method").GetString());
        Assert.Equal("app", line.GetProperty("RouteId").GetString());
        Assert.Equal("app", line.GetProperty("ClusterId").GetString());
        Assert.Equal("app", line.GetProperty("DestinationId").GetString());
        Assert.Equal(200, line.GetProperty("StatusCode").GetInt32());
        Assert.Equal("success", line.GetProperty("Outcome").GetString());
        Assert.Equal(321, line.GetProperty("RequestBytes").GetInt64());
        Assert.Equal(1234, line.GetProperty("ResponseBytes").GetInt64());
        Assert.True(line.GetProperty("DurationMs").GetDouble() > 0);
        Assert.True(line.GetProperty("UpstreamMs").GetDouble() > 0);
        Assert.True(line.GetProperty("DurationMs").GetDouble() >= line.GetProperty("UpstreamMs").GetDouble());
        Assert.False(string.IsNullOrEmpty(line.GetProperty("ConnectionId").GetString()));
        Assert.Equal(32, line.GetProperty("TraceId").GetString()!.Length);
    }

    [Fact]
    public async Task ProxiedRequest_Secrets_NeverLogged()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var client = new HttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(guard.ProxyUri, $"/reset/{Secret}?token={Secret}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Secret);
        request.Headers.Add("Cookie", $"session={Secret}");
        using var response = await client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await guard.WaitForSingleLogEventAsync("ProxyRequestCompleted", s_logTimeout);
        AssertNowhere(guard, Secret);
    }

    [Fact]
    public async Task RejectedRequest_LogsReasonWithoutHeaders()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxRequestBodySize"] = "1KiB",
        });

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, $"POST /upload?key={Secret} HTTP/1.1\r\nHost: test\r\nX-Api-Key: {Secret}\r\nContent-Length: 5000\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        Assert.Equal(413, response?.StatusCode);
        var limitLine = await guard.WaitForSingleLogEventAsync("RequestRejectedByLimit", s_logTimeout);
        Assert.Equal("max_request_body_size", limitLine.GetProperty("Reason").GetString());
        Assert.Equal(413, limitLine.GetProperty("StatusCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(limitLine.GetProperty("ConnectionId").GetString()));
        Assert.Contains("127.0.0.1", limitLine.GetProperty("RemoteAddress").GetString(), StringComparison.Ordinal);

        var completion = await guard.WaitForSingleLogEventAsync("ProxyRequestCompleted", s_logTimeout);
        Assert.Equal(413, completion.GetProperty("StatusCode").GetInt32());
        Assert.Equal("not_forwarded", completion.GetProperty("Outcome").GetString());
        AssertNowhere(guard, Secret);
    }

    [Fact]
    public async Task KestrelRejection_HeaderValuesNeverLogged()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxRequestHeaderCount"] = "3",
        });

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        var headers = string.Concat(Enumerable.Range(0, 6).Select(i => $"X-Secret-{i}: {Secret}\r\n"));
        await RawHttp.SendAsync(socket, $"GET / HTTP/1.1\r\nHost: test\r\n{headers}\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        Assert.Equal(431, response?.StatusCode);
        var limitLine = await guard.WaitForSingleLogEventAsync("KestrelLimitEnforced", s_logTimeout);
        Assert.Equal("max_request_header_count", limitLine.GetProperty("Reason").GetString());
        AssertNowhere(guard, Secret);
    }

    private static void AssertNowhere(GuardProcess guard, string value)
    {
        var leaks = guard.Lines.Where(line => line.Contains(value, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, "the secret appeared in the guard's output:\n" + string.Join('\n', leaks));
    }
}
