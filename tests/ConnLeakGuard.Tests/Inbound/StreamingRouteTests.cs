namespace ConnLeakGuard.Tests.Inbound;

// Outside the sequential collection: it reads slowly for about five minutes and barely loads the machine.
public sealed class StreamingRouteTests
{
    [Fact]
    public async Task SlowButSteadyReader_OnStreamingRoute_IsNotCut()
    {
        const long downloadBytes = 30L * 1024 * 1024;
        const int bytesPerSecond = 100 * 1024;
        await using var upstream = await ResponseLimitTests.StartStreamingUpstreamAsync();
        var config = GuardProcess.BuildConfig(upstream.Uri, """{ "ConnLeakGuard.ResponseTimeout": "off" }""");
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MinResponseDataRate"] = "1KiB",
            ["ConnLeakGuard:Inbound:MinResponseDataRateGracePeriod"] = "2s",
            ["ConnLeakGuard:Inbound:ResponseTimeout"] = "10s",
        }, config);

        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        socket.ReceiveBufferSize = 16 * 1024;
        await RawHttp.SendAsync(socket, $"GET /stream?bytes={downloadBytes} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");

        var received = await ResponseLimitTests.ReadAtRateAsync(socket, bytesPerSecond, TimeSpan.FromSeconds(400));

        // Headers and chunk framing add a little; the payload itself must be complete.
        Assert.True(received >= downloadBytes, $"received {received} of {downloadBytes} bytes");
        Assert.Equal(0, upstream.AbortedRequests);
    }
}
