using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>
/// The completion line writer on its own (format, drops, drain at stop) and against the Serilog path that it
/// replaces in the guard's default output.
/// </summary>
public sealed class CompletionLogWriterTests
{
    [Fact]
    public async Task Write_AllFields_OneJsonLine()
    {
        var output = new GatedStream(open: true);
        using var writer = new CompletionLogWriter(output, capacity: 10, enabled: true);
        await writer.StartAsync(CancellationToken.None);
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();

        Assert.True(writer.TryWrite(Entry(routeId: "r\"1\\ü", traceId: traceId, spanId: spanId)));
        await writer.StoppedAsync(CancellationToken.None);

        var line = Assert.Single(output.Lines);
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        Assert.Equal("r\"1\\ü", root.GetProperty("RouteId").GetString());
        Assert.Equal("POST", root.GetProperty("Method").GetString());
        Assert.Equal(503, root.GetProperty("StatusCode").GetInt32());
        Assert.Equal(12.5, root.GetProperty("DurationMs").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("UpstreamMs").ValueKind);
        Assert.Equal(4096, root.GetProperty("RequestBytes").GetInt64());
        Assert.Equal(traceId.ToHexString(), root.GetProperty("TraceId").GetString());
        Assert.Equal(traceId.ToHexString(), root.GetProperty("@tr").GetString());
        Assert.Equal(spanId.ToHexString(), root.GetProperty("@sp").GetString());
        Assert.Equal("ProxyRequestCompleted", root.GetProperty("EventId").GetProperty("Name").GetString());
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), root.GetProperty("@t").GetDateTime().ToUniversalTime());
        Assert.StartsWith("\"POST\" via route \"r\"1\\ü\" to \"app\"/null: 503", root.GetProperty("@m").GetString(), StringComparison.Ordinal);
        Assert.EndsWith($"trace \"{traceId.ToHexString()}\"", root.GetProperty("@m").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_LongIds_RenderWholeMessage()
    {
        var output = new GatedStream(open: true);
        using var writer = new CompletionLogWriter(output, capacity: 10, enabled: true);
        await writer.StartAsync(CancellationToken.None);
        var longId = new string('c', 3000);

        writer.TryWrite(Entry(routeId: longId));
        await writer.StoppedAsync(CancellationToken.None);

        using var document = JsonDocument.Parse(Assert.Single(output.Lines));
        Assert.Contains($"\"{longId}\"", document.RootElement.GetProperty("@m").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("trace null", document.RootElement.GetProperty("@m").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_OutputBlocked_DropsAndCounts()
    {
        var output = new GatedStream(open: false);
        using var writer = new CompletionLogWriter(output, capacity: 4, enabled: true);
        await writer.StartAsync(CancellationToken.None);

        // The first line reaches the blocked write; the queue then holds exactly its capacity.
        Assert.True(writer.TryWrite(Entry()));
        Assert.True(output.WriteStarted.Wait(TimeSpan.FromSeconds(10)));
        var accepted = Enumerable.Range(0, 20).Count(_ => writer.TryWrite(Entry()));

        Assert.Equal(4, accepted);
        Assert.Equal(16, writer.DroppedCount);
        Assert.Equal(4, writer.QueuedCount);

        output.Open();
        await writer.StoppedAsync(CancellationToken.None);
        Assert.Equal(5, output.Lines.Length);
        Assert.False(writer.TryWrite(Entry()));
        Assert.Equal(17, writer.DroppedCount);
    }

    [Fact]
    public async Task DefaultOutput_LineMatchesSerilogPath()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var fast = await GuardProcess.StartAsync(upstream.Uri);
        await using var serilog = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["Serilog:WriteTo:0:Name"] = "Console",
            ["Serilog:WriteTo:0:Args:formatter"] = "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact",
        });
        using var client = new HttpClient();

        foreach (var guard in new[] { fast, serilog })
        {
            using var response = await client.GetAsync(new Uri(guard.ProxyUri, "/compare"));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        var fastLine = await fast.WaitForSingleLogEventAsync(CompletionLogWriter.EventName, TimeSpan.FromSeconds(10));
        var serilogLine = await serilog.WaitForSingleLogEventAsync(CompletionLogWriter.EventName, TimeSpan.FromSeconds(10));
        Assert.Equal(PropertyNames(serilogLine), PropertyNames(fastLine));
        foreach (var name in new[] { "@i", "Method", "RouteId", "ClusterId", "DestinationId", "StatusCode", "Outcome", "Protocol", "SourceContext" })
        {
            Assert.Equal(serilogLine.GetProperty(name).GetRawText(), fastLine.GetProperty(name).GetRawText());
        }

        Assert.Equal(
            Normalize(serilogLine.GetProperty("@m").GetString()!, serilogLine),
            Normalize(fastLine.GetProperty("@m").GetString()!, fastLine));
    }

    private static string[] PropertyNames(JsonElement line) => [.. line.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    // Replaces the values that differ between two requests (timings, ids) with their names.
    private static string Normalize(string message, JsonElement line)
    {
        foreach (var name in new[] { "DurationMs", "UpstreamMs", "QueueMs", "ConnectionId", "TraceId" })
        {
            var value = line.GetProperty(name);
            var text = value.ValueKind switch
            {
                JsonValueKind.Number => value.GetDouble().ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
                JsonValueKind.String => $"\"{value.GetString()}\"",
                _ => "null",
            };
            message = message.Replace(text, name, StringComparison.Ordinal);
        }

        return message;
    }

    private static CompletionLogEntry Entry(string? routeId = "app", ActivityTraceId traceId = default, ActivitySpanId spanId = default) => new()
    {
        Timestamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        Method = "POST",
        RouteId = routeId,
        ClusterId = "app",
        DestinationId = null,
        StatusCode = 503,
        Outcome = "queue_full",
        DurationMs = 12.5,
        RequestBytes = 4096,
        Protocol = "HTTP/1.1",
        ConnectionId = "0HTEST",
        RequestId = "0HTEST:00000001",
        TraceId = traceId,
        SpanId = spanId,
    };

    /// <summary>Collects written lines; while closed, a write blocks until <see cref="Open"/>.</summary>
    private sealed class GatedStream(bool open) : Stream
    {
        private readonly ManualResetEventSlim _gate = new(open);
        private readonly MemoryStream _written = new();

        public ManualResetEventSlim WriteStarted { get; } = new();

        public string[] Lines
        {
            get
            {
                lock (_written)
                {
                    return Encoding.UTF8.GetString(_written.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                }
            }
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Open() => _gate.Set();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            WriteStarted.Set();
            _gate.Wait(TimeSpan.FromSeconds(30));
            lock (_written)
            {
                _written.Write(buffer);
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _gate.Dispose();
                _written.Dispose();
                WriteStarted.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
