using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// The real guard with a 64 MiB GC heap limit (<c>DOTNET_GCHeapHardLimit</c>) while a flood of connections
/// sends large unfinished headers, which Kestrel buffers, enough to exceed the limit if nothing were shed.
/// </summary>
[Collection(SequentialTests.Name)]
public sealed class MemoryLimitTests(ITestOutputHelper output)
{
    private const string HeapLimit = "0x4000000";

    // Each flood connection sends this much of a header block and never finishes it, so Kestrel keeps it
    // in memory until the headers timeout. 2,500 of them need about 75 MiB.
    private const int PartialHeaderBytes = 30 * 1024;
    private const int FloodConnections = 2500;
    private const int FloodBatch = 10;
    private static readonly TimeSpan s_floodPause = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task HeaderFlood_KeepsServingUnderHeapLimit()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(
            upstream.Uri,
            new Dictionary<string, string>
            {
                ["ConnLeakGuard:Overload:SampleInterval"] = "100ms",
                ["ConnLeakGuard:Overload:RecoveryHoldTime"] = "2s",
                ["ConnLeakGuard:Overload:MemoryElevated"] = "70%",
                ["ConnLeakGuard:Overload:MemoryHigh"] = "80%",
                ["ConnLeakGuard:Overload:MemoryCritical"] = "90%",
                ["ConnLeakGuard:Inbound:MaxConnectionsPerClientIp"] = "5000",
            },
            environment: new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = HeapLimit });

        var sockets = new List<Socket>();
        var healthy = new HealthyClient();
        using var stopHealthy = new CancellationTokenSource();
        var healthyRun = healthy.RunAsync(guard.ProxyEndPoint, TimeSpan.FromMilliseconds(20), stopHealthy.Token);
        var header = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: test\r\nX-Fill: " + new string('a', PartialHeaderBytes));
        var refused = 0;
        try
        {
            // Bounded flood: at most FloodConnections connections, in batches, for at most 40 s.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
            for (var opened = 0; opened < FloodConnections && DateTime.UtcNow < deadline && !guard.HasExited; opened += FloodBatch)
            {
                var batch = await Task.WhenAll(Enumerable.Range(0, FloodBatch).Select(_ => SendPartialHeadersAsync(guard, header)));
                sockets.AddRange(batch.OfType<Socket>());
                refused += batch.Count(s => s is null);
                await Task.Delay(s_floodPause);
            }

            // The healthy client keeps going while the guard recovers.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stopHealthy.CancelAsync();
            await healthyRun;

            Assert.False(guard.HasExited, $"the guard exited during the flood:\n{string.Join('\n', guard.Lines.TakeLast(15))}");

            // An allocation that fails inside one flood connection ends only that connection, and the guard
            // survives it. A failure in Kestrel's accept loop stops the listener, and this request finds that.
            var outOfMemory = guard.Lines.Count(line => line.Contains(nameof(OutOfMemoryException), StringComparison.Ordinal));
            Assert.True(await RequestSucceedsAsync(guard), $"the guard stopped serving after the flood ({outOfMemory} out-of-memory log lines):\n{guard.LinesContaining(nameof(OutOfMemoryException))}");

            var scrape = await guard.ScrapeAsync();
            output.WriteLine($"flood: {sockets.Count} connections sent headers, {refused} refused or failed");
            output.WriteLine($"log lines with {nameof(OutOfMemoryException)}: {outOfMemory}");
            output.WriteLine($"healthy client: {healthy.Succeeded} succeeded, {healthy.Failed} failed");
            output.WriteLine(string.Join('\n', scrape.Text.Split('\n').Where(line => line.StartsWith("connleakguard_overload", StringComparison.Ordinal))));
            output.WriteLine(guard.LinesContaining("Overload"));

            var raised = scrape.Sum("connleakguard_overload_transitions_total", ("signal", "memory"), ("from", "normal"));
            Assert.True(raised >= 1, $"the memory level never left normal\n{guard.LinesContaining("Overload")}");

            CriticalWindows.AssertHealthyServedOutside(guard, "memory", healthy, output);
        }
        finally
        {
            await stopHealthy.CancelAsync();
            sockets.ForEach(s => s.Dispose());
        }
    }

    // Sends one request on a new connection once the level allows new connections again.
    private static async Task<bool> RequestSucceedsAsync(GuardProcess guard)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(new Uri($"http://{guard.ProxyEndPoint}/after"));
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Rejected while the level is critical: try again until the deadline.
            }

            await Task.Delay(500);
        }

        return false;
    }

    // Returns the connection after sending the unfinished headers, or null when the guard refused it.
    private static async Task<Socket?> SendPartialHeadersAsync(GuardProcess guard, byte[] header)
    {
        Socket? socket = null;
        try
        {
            socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
            await socket.SendAsync(header, SocketFlags.None);
            return socket;
        }
        catch (SocketException)
        {
            socket?.Dispose();
            return null;
        }
    }
}
