using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class ConnectionCapTests
{
    [Theory]
    [InlineData("ConnLeakGuard:Inbound:MaxConcurrentConnections")]
    [InlineData("ConnLeakGuard:Inbound:MaxConnectionsPerClientIp")]
    public async Task ConnectionOverCap_IsClosedAtOnce(string capKey)
    {
        const int cap = 5;
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            [capKey] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < cap; i++)
            {
                var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
                held.Add(socket);
                await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
                var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
                Assert.Equal(200, response?.StatusCode);
            }

            using var extra = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            await RawHttp.SendAsync(extra, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            var closed = await RawHttp.WaitForCloseAsync(extra, TimeSpan.FromSeconds(2));

            Assert.True(closed, "the connection over the cap was left open");
            Assert.Equal(cap, upstream.Requests);

            // Every held connection is still served: the cap closes only the newcomer.
            await RawHttp.SendAsync(held[0], "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.Equal(200, (await RawHttp.ReadResponseAsync(held[0], TimeSpan.FromSeconds(10)))?.StatusCode);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task PerIpCap_FreesSlotWhenConnectionCloses()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "1",
        });

        using (var first = await RawHttp.ConnectAsync(guard.ProxyEndPoint))
        {
            await RawHttp.SendAsync(first, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.Equal(200, (await RawHttp.ReadResponseAsync(first, TimeSpan.FromSeconds(10)))?.StatusCode);
        }

        // The guard notices the close asynchronously; the next connection is admitted once it has.
        var served = false;
        for (var attempt = 0; attempt < 20 && !served; attempt++)
        {
            served = await TryRequest(guard);
            if (!served)
            {
                await Task.Delay(250);
            }
        }

        Assert.True(served, "the per-IP slot was not released after the connection closed");
    }

    private static async Task<bool> TryRequest(GuardProcess guard)
    {
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        try
        {
            return (await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(2)))?.StatusCode == 200;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
