using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Lifecycle;

[Collection(SequentialTests.Name)]
public sealed class DrainTests
{
    [Fact]
    public async Task Sigterm_DrainsWithoutDroppingRequests()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            if (context.Request.Path == "/slow")
            {
                await Task.Delay(TimeSpan.FromSeconds(10));
            }

            await context.Response.WriteAsync("done");
        };
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Shutdown:DrainDelay"] = "2s",
            ["ConnLeakGuard:Shutdown:DrainTimeout"] = "15s",
        });
        using var admin = new HttpClient { BaseAddress = guard.AdminUri };

        using var idle = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(idle, "GET /fast HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(idle, TimeSpan.FromSeconds(10)))?.StatusCode);

        using var inFlightClient = new HttpClient { BaseAddress = guard.ProxyUri, Timeout = TimeSpan.FromSeconds(60) };
        var inFlight = inFlightClient.GetAsync("/slow");
        Assert.True(await TestUpstream.WaitForAsync(() => upstream.Requests == 2, TimeSpan.FromSeconds(5)));

        var stopwatch = Stopwatch.StartNew();
        var exit = guard.TerminateAsync(TimeSpan.FromSeconds(30));

        var readyStatus = await WaitForReadyStatusAsync(admin, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(1));
        var duringDelay = await SendOnNewConnectionAsync(guard.ProxyEndPoint);
        var idleOutcome = await ReadUntilCloseAsync(idle, TimeSpan.FromSeconds(10));
        using var slowResponse = await inFlight;
        var slowBody = await slowResponse.Content.ReadAsStringAsync();
        var exitCode = await exit;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.Equal(200, duringDelay);
        Assert.True(idleOutcome.Closed, "the idle keep-alive connection was not closed");
        Assert.Equal(0, idleOutcome.BytesReceived);
        Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
        Assert.Equal("done", slowBody);
        Assert.Equal(0, exitCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2 + 15), $"exit after {stopwatch.Elapsed}");
    }

    private static async Task<HttpStatusCode?> WaitForReadyStatusAsync(HttpClient admin, HttpStatusCode expected, TimeSpan timeout)
    {
        HttpStatusCode? last = null;
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await admin.GetAsync("/healthz/ready");
            last = response.StatusCode;
            if (last == expected)
            {
                break;
            }

            await Task.Delay(50);
        }

        return last;
    }

    private static async Task<int?> SendOnNewConnectionAsync(IPEndPoint endPoint)
    {
        using var socket = await RawHttp.ConnectAsync(endPoint);
        await RawHttp.SendAsync(socket, "GET /fast HTTP/1.1\r\nHost: test\r\n\r\n");
        return (await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(5)))?.StatusCode;
    }

    // Reads until the guard closes the connection; an idle connection must close without receiving a byte.
    private static async Task<(bool Closed, int BytesReceived)> ReadUntilCloseAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[1024];
        var total = 0;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                total += read;
            }

            return (true, total);
        }
        catch (OperationCanceledException)
        {
            return (false, total);
        }
        catch (SocketException)
        {
            return (true, total);
        }
    }
}
