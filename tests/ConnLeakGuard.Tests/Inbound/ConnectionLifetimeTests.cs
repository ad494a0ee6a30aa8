namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class ConnectionLifetimeTests
{
    [Fact]
    public async Task MaxRequests_ClosesAfterLastResponse()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxRequestsPerConnection"] = "3",
        });
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);

        var statuses = new List<int>();
        var closeHeaders = new List<bool>();
        for (var i = 0; i < 3; i++)
        {
            await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
            Assert.NotNull(response);
            statuses.Add(response.StatusCode);
            closeHeaders.Add(response.ConnectionClose);
        }

        Assert.Equal([200, 200, 200], statuses);
        Assert.Equal([false, false, true], closeHeaders);
        Assert.True(await RawHttp.WaitForCloseAsync(socket, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task MaxAge_ClosesBetweenRequestsNotDuring()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await context.Response.WriteAsync("slow but complete");
        };
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxConnectionAge"] = "1s",
            ["ConnLeakGuard:Inbound:MaxConnectionAgeJitter"] = "0%",
            ["ConnLeakGuard:Inbound:MaxConnectionAgeGracePeriod"] = "10s",
        });
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);

        // The request spans the age limit: it must complete, and the connection closes right after it.
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        Assert.NotNull(response);
        Assert.Equal(200, response.StatusCode);
        Assert.True(response.ConnectionClose);
        Assert.True(await RawHttp.WaitForCloseAsync(socket, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task MaxAge_ClosesIdleConnection()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxConnectionAge"] = "2s",
            ["ConnLeakGuard:Inbound:MaxConnectionAgeJitter"] = "0%",
            ["ConnLeakGuard:Inbound:KeepAliveTimeout"] = "60s",
        });
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10)))?.StatusCode);

        var closed = await RawHttp.WaitForCloseAsync(socket, TimeSpan.FromSeconds(5));

        Assert.True(closed, "an idle connection past its maximum age was left open");
    }
}
