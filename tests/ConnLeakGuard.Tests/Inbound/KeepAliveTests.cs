using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class KeepAliveTests
{
    [Fact]
    public async Task IdleConnections_AreClosedAtKeepAliveTimeout()
    {
        const int connections = 1000;
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:KeepAliveTimeout"] = "2s",
            ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "5000",
        });

        var sockets = new List<Socket>();
        try
        {
            for (var batch = 0; batch < connections; batch += 100)
            {
                var opened = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => OpenAndRequestAsync(guard)));
                sockets.AddRange(opened);
            }

            var lastRequest = DateTime.UtcNow;
            Assert.Equal(connections, upstream.Requests);

            var closes = await Task.WhenAll(sockets.Select(s => RawHttp.WaitForCloseAsync(s, TimeSpan.FromSeconds(2 + 1) + (lastRequest - DateTime.UtcNow))));
            Assert.All(closes, Assert.True);

            var port = guard.ProxyEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var active = double.NaN;
            for (var attempt = 0; attempt < 10 && active != 0; attempt++)
            {
                var scrape = await guard.ScrapeAsync();
                active = scrape.Sum("kestrel_active_connections", ("server_port", port));
                if (active != 0)
                {
                    await Task.Delay(100);
                }
            }

            Assert.Equal(0, active);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private static async Task<Socket> OpenAndRequestAsync(GuardProcess guard)
    {
        var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
        Assert.Equal(200, response?.StatusCode);
        return socket;
    }
}
