using System.Net.Sockets;
using Xunit.Abstractions;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// The real guard started under <c>ulimit -n</c> while a flood of keep-alive connections, each left open
/// after one request, would need more descriptors than the limit allows.
/// </summary>
[Collection(SequentialTests.Name)]
public sealed class DescriptorLimitTests(ITestOutputHelper output)
{
    // The idle guard has about 300 descriptors open, one per loaded assembly file among them, so 512 leaves
    // it at level normal. The thresholds 70/85/95% are 358, 435 and 486 descriptors.
    private const int DescriptorLimit = 512;

    // Enough connections to pass the limit with room to spare if nothing were shed.
    private const int FloodConnections = 400;
    private const int FloodBatch = 10;

    [Fact]
    public async Task ConnectionFlood_ShedsBeforeDescriptorLimit()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(
            upstream.Uri,
            new Dictionary<string, string>
            {
                ["ConnLeakGuard:Overload:SampleInterval"] = "100ms",
                ["ConnLeakGuard:Overload:RecoveryHoldTime"] = "2s",
                ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "2000",
            },
            shellPrefix: $"ulimit -n {DescriptorLimit}");

        var sockets = new List<Socket>();
        var healthy = new HealthyClient();
        using var stopHealthy = new CancellationTokenSource();
        var healthyRun = healthy.RunAsync(guard.ProxyEndPoint, TimeSpan.FromMilliseconds(20), stopHealthy.Token);
        var maxDescriptors = 0;
        try
        {
            // Bounded flood: at most FloodConnections connections, in batches, for at most 30 s.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            for (var opened = 0; opened < FloodConnections && DateTime.UtcNow < deadline; opened += FloodBatch)
            {
                var batch = await Task.WhenAll(Enumerable.Range(0, FloodBatch).Select(_ => OpenAndRequestAsync(guard)));
                sockets.AddRange(batch.OfType<Socket>());
                maxDescriptors = Math.Max(maxDescriptors, CountDescriptors(guard.ProcessId));
                await Task.Delay(50);
            }

            // The healthy client keeps going while the level falls back.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stopHealthy.CancelAsync();
            await healthyRun;

            Assert.False(guard.HasExited, "the guard exited during the flood");

            var scrape = await guard.ScrapeAsync();
            output.WriteLine($"flood sockets still open {sockets.Count}, most descriptors seen {maxDescriptors} of {DescriptorLimit}");
            output.WriteLine($"healthy client: {healthy.Succeeded} succeeded, {healthy.Failed} failed");
            output.WriteLine(string.Join('\n', scrape.Text.Split('\n').Where(line => line.StartsWith("connleakguard_overload", StringComparison.Ordinal))));
            var toHigh = scrape.Sum("connleakguard_overload_transitions_total", ("signal", "file_descriptors"), ("to", "high"))
                + scrape.Sum("connleakguard_overload_transitions_total", ("signal", "file_descriptors"), ("to", "critical"));
            Assert.True(toHigh >= 1, $"the descriptor level never reached high; the most descriptors seen was {maxDescriptors}\n{guard.LinesContaining("Overload")}");
            Assert.True(scrape.Sum("connleakguard_overload_shed_total") >= 1, "nothing was shed");
            Assert.DoesNotContain(guard.Lines, line => line.Contains("Too many open files", StringComparison.Ordinal));

            CriticalWindows.AssertHealthyServedOutside(guard, "file_descriptors", healthy, output);
        }
        finally
        {
            await stopHealthy.CancelAsync();
            sockets.ForEach(s => s.Dispose());
        }
    }

    // Opens a connection, sends one request and keeps the connection, as a client that leaks keep-alive
    // connections does. Returns null when the guard closed the connection, refused it or sent no response.
    // Shedding does the first two on purpose, and a guard out of descriptors does the last.
    private static async Task<Socket?> OpenAndRequestAsync(GuardProcess guard)
    {
        Socket? socket = null;
        try
        {
            socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            await RawHttp.SendAsync(socket, "GET /flood HTTP/1.1\r\nHost: test\r\n\r\n");
            var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));
            if (response is null || response.ConnectionClose)
            {
                socket.Dispose();
                return null;
            }

            return socket;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            socket?.Dispose();
            return null;
        }
    }

    private static int CountDescriptors(int processId)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{processId}/fd").Count();
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
