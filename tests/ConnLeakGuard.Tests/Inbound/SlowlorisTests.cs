using System.Diagnostics;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class SlowlorisTests
{
    [Fact]
    public async Task HeaderTricklers_AreCutAtHeadersTimeout()
    {
        const int sockets = 200;
        var headersTimeout = TimeSpan.FromSeconds(3);
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:RequestHeadersTimeout"] = "3s",
        });

        using var stop = new CancellationTokenSource();
        var healthy = ServeHealthyClientAsync(guard, stop.Token);

        var tricklers = Enumerable.Range(0, sockets).Select(_ => TrickleAsync(guard, TimeSpan.FromSeconds(2))).ToList();
        var outcomes = await Task.WhenAll(tricklers);
        await stop.CancelAsync();
        var (served, failed) = await healthy;

        var deadline = headersTimeout + TimeSpan.FromSeconds(1);
        Assert.All(outcomes, outcome => Assert.True(outcome.Closed, "a trickling socket was never closed"));
        Assert.All(outcomes, outcome => Assert.True(outcome.Elapsed <= deadline, $"closed after {outcome.Elapsed}, limit {deadline}"));
        Assert.All(outcomes, outcome => Assert.True(outcome.Status is null or 408, $"unexpected status {outcome.Status}"));
        Assert.Equal(served, upstream.Requests);
        Assert.True(served > 0);
        Assert.Equal(0, failed);
    }

    private static async Task<(bool Closed, TimeSpan Elapsed, int? Status)> TrickleAsync(GuardProcess guard, TimeSpan interval)
    {
        using var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        var stopwatch = Stopwatch.StartNew();
        var request = "GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ";
        var receive = RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(15));

        // One byte every interval, never finishing the headers; 7 bytes cover 14 s, well past the limit.
        for (var i = 0; i < 7 && !receive.IsCompleted; i++)
        {
            try
            {
                await socket.SendAsync(new[] { (byte)request[i] }, SocketFlags.None);
            }
            catch (SocketException)
            {
                break;
            }

            await Task.WhenAny(receive, Task.Delay(interval));
        }

        try
        {
            var response = await receive;
            return (true, stopwatch.Elapsed, response?.StatusCode);
        }
        catch (TimeoutException)
        {
            return (false, stopwatch.Elapsed, null);
        }
    }

    private static async Task<(int Served, int Failed)> ServeHealthyClientAsync(GuardProcess guard, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = guard.ProxyUri };
        var served = 0;
        var failed = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync("/healthy", CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    served++;
                }
                else
                {
                    failed++;
                }
            }
            catch (HttpRequestException)
            {
                failed++;
            }

            await Task.Delay(100, CancellationToken.None);
        }

        return (served, failed);
    }
}
