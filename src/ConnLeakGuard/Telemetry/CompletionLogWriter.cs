using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Parsing;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Writes the per-request <c>ProxyRequestCompleted</c> line to standard output in the same compact JSON
/// envelope as Serilog's other lines (<c>@t</c>, <c>@m</c>, <c>@i</c>, <c>@tr</c>, <c>@sp</c>, properties,
/// <c>EventId</c>, <c>SourceContext</c>, <c>RequestId</c>), without building a Serilog event.
/// </summary>
/// <remarks>
/// <para>
/// A Serilog event for this line allocated about 8 KiB per request (property dictionary, boxed values, the
/// rendered message and the JSON text), more than half of what the guard allocates for a proxied request.
/// Here the request's thread only queues a <see cref="CompletionLogEntry"/>; one background loop formats the
/// lines with a reused <see cref="Utf8JsonWriter"/> into a reused buffer and writes them in batches. nginx
/// and Envoy keep their access logs apart from their error logs for the same reason.
/// </para>
/// <para>
/// It is in use only with the guard's own JSON output (<c>ConnLeakGuard:LogFormat=json</c> and no
/// <c>Serilog:WriteTo</c> section); otherwise the line goes through Serilog and its configured sinks and
/// enrichers. The queue holds <c>ConnLeakGuard:LogQueueCapacity</c> lines; a line that finds it full is
/// dropped and counted in <c>connleakguard_log_events_dropped_total</c>. Batches are written while holding
/// <see cref="ConsoleLock"/>, which Serilog's console sink holds for each of its events, so lines from the
/// two writers never interleave. The queue is drained after the server and the other hosted services have
/// stopped.
/// </para>
/// </remarks>
internal sealed class CompletionLogWriter : IHostedLifecycleService, IDisposable
{
    /// <summary>Event id of the line, shared with the Serilog path.</summary>
    public const int EventId = 3001;

    /// <summary>Event name of the line.</summary>
    public const string EventName = "ProxyRequestCompleted";

    /// <summary>Message template of the line, shared with the Serilog path so that both render alike.</summary>
    public const string MessageTemplate =
        "{Method} via route {RouteId} to {ClusterId}/{DestinationId}: {StatusCode} {Outcome} {ForwarderError} in {DurationMs:0.###} ms "
        + "(upstream {UpstreamMs:0.###} ms, queue {QueueMs:0.###} ms), {RequestBytes} bytes in, {ResponseBytes} bytes out, "
        + "{Protocol} connection {ConnectionId}, trace {TraceId}";

    // Lines are gathered up to this size before one write to standard output.
    private const int BatchBytes = 32 * 1024;

    private static readonly string s_sourceContext = typeof(ProxyRequestLogMiddleware).FullName!;
    private static readonly JsonEncodedText s_time = JsonEncodedText.Encode("@t");
    private static readonly JsonEncodedText s_message = JsonEncodedText.Encode("@m");
    private static readonly JsonEncodedText s_templateHash = JsonEncodedText.Encode("@i");
    private static readonly JsonEncodedText s_traceIdShort = JsonEncodedText.Encode("@tr");
    private static readonly JsonEncodedText s_spanIdShort = JsonEncodedText.Encode("@sp");
    private static readonly JsonEncodedText s_method = JsonEncodedText.Encode("Method");
    private static readonly JsonEncodedText s_routeId = JsonEncodedText.Encode("RouteId");
    private static readonly JsonEncodedText s_clusterId = JsonEncodedText.Encode("ClusterId");
    private static readonly JsonEncodedText s_destinationId = JsonEncodedText.Encode("DestinationId");
    private static readonly JsonEncodedText s_statusCode = JsonEncodedText.Encode("StatusCode");
    private static readonly JsonEncodedText s_outcome = JsonEncodedText.Encode("Outcome");
    private static readonly JsonEncodedText s_forwarderError = JsonEncodedText.Encode("ForwarderError");
    private static readonly JsonEncodedText s_durationMs = JsonEncodedText.Encode("DurationMs");
    private static readonly JsonEncodedText s_upstreamMs = JsonEncodedText.Encode("UpstreamMs");
    private static readonly JsonEncodedText s_queueMs = JsonEncodedText.Encode("QueueMs");
    private static readonly JsonEncodedText s_requestBytes = JsonEncodedText.Encode("RequestBytes");
    private static readonly JsonEncodedText s_responseBytes = JsonEncodedText.Encode("ResponseBytes");
    private static readonly JsonEncodedText s_protocol = JsonEncodedText.Encode("Protocol");
    private static readonly JsonEncodedText s_connectionId = JsonEncodedText.Encode("ConnectionId");
    private static readonly JsonEncodedText s_traceId = JsonEncodedText.Encode("TraceId");
    private static readonly JsonEncodedText s_eventId = JsonEncodedText.Encode("EventId");
    private static readonly JsonEncodedText s_id = JsonEncodedText.Encode("Id");
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("Name");
    private static readonly JsonEncodedText s_eventName = JsonEncodedText.Encode(EventName);
    private static readonly JsonEncodedText s_sourceContextName = JsonEncodedText.Encode("SourceContext");
    private static readonly JsonEncodedText s_sourceContextValue = JsonEncodedText.Encode(s_sourceContext);
    private static readonly JsonEncodedText s_requestId = JsonEncodedText.Encode("RequestId");

    private readonly Channel<CompletionLogEntry> _queue;
    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(2 * BatchBytes);
    private readonly Utf8JsonWriter _json;
    private readonly JsonEncodedText _templateHashValue;
    private char[] _messageBuffer = new char[512];
    private long _dropped;
    private Task _loop = Task.CompletedTask;

    /// <summary>Creates the writer.</summary>
    /// <param name="output">Where lines go: standard output in the guard, a test stream in tests.</param>
    /// <param name="capacity">Lines that may wait for the background loop.</param>
    /// <param name="enabled">Whether the guard's own JSON output is in use (see the remarks).</param>
    public CompletionLogWriter(Stream output, int capacity, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);

        _output = output;
        IsEnabled = enabled;
        _queue = Channel.CreateBounded<CompletionLogEntry>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

        // The relaxed encoder escapes what JSON requires and leaves the rest readable, as Serilog does.
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _templateHashValue = JsonEncodedText.Encode(ComputeTemplateHash());
    }

    /// <summary>Whether the middleware should queue lines here instead of logging them through Serilog.</summary>
    public bool IsEnabled { get; }

    /// <summary>The lock that Serilog's console sink takes for each event; batches are written under it too.</summary>
    public object ConsoleLock { get; } = new();

    /// <summary>Lines dropped because the queue was full or the writer had stopped.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Lines waiting for the background loop.</summary>
    public int QueuedCount => _queue.Reader.Count;

    /// <summary>Queues one line; returns false and counts it when the queue is full or the writer has stopped.</summary>
    public bool TryWrite(in CompletionLogEntry entry)
    {
        // The channel's Wait mode applies to WriteAsync only, so TryWrite returns false at once on a full queue.
        if (_queue.Writer.TryWrite(entry))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsEnabled)
        {
            _loop = Task.Run(WriteLoopAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Drains the queue once the server has finished its last requests. When the host's shutdown timeout
    /// ends the wait first, the lines still queued are lost.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Add(ref _dropped, _queue.Reader.Count);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _json.Dispose();

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var lines = 0;
            while (_buffer.WrittenCount < BatchBytes && reader.TryRead(out var entry))
            {
                try
                {
                    Format(entry);
                    lines++;
                }
                catch (ArgumentException)
                {
                    // A configured id that is not valid UTF-16 cannot be written as JSON: that line is lost.
                    _json.Reset();
                    Interlocked.Increment(ref _dropped);
                }
            }

            try
            {
                // A blocking write on purpose: Serilog's console sink holds the same lock while it writes.
                lock (ConsoleLock)
                {
                    _output.Write(_buffer.WrittenSpan);
                    _output.Flush();
                }
            }
            catch (IOException)
            {
                // Standard output is gone (the reader closed the pipe): the lines are lost and counted.
                Interlocked.Add(ref _dropped, lines);
            }

            _buffer.ResetWrittenCount();
        }
    }

    private void Format(in CompletionLogEntry entry)
    {
        Span<char> traceId = stackalloc char[32];
        Span<char> spanId = stackalloc char[16];
        var hasTrace = entry.TraceId != default && WriteHex(entry.TraceId, traceId) && WriteHex(entry.SpanId, spanId);

        _json.Reset();
        _json.WriteStartObject();
        _json.WriteString(s_time, entry.Timestamp);
        _json.WriteString(s_message, RenderMessage(entry, hasTrace ? traceId : default));
        _json.WriteString(s_templateHash, _templateHashValue);
        if (hasTrace)
        {
            _json.WriteString(s_traceIdShort, traceId);
            _json.WriteString(s_spanIdShort, spanId);
        }

        _json.WriteString(s_method, entry.Method);
        _json.WriteString(s_routeId, entry.RouteId);
        _json.WriteString(s_clusterId, entry.ClusterId);
        _json.WriteString(s_destinationId, entry.DestinationId);
        _json.WriteNumber(s_statusCode, entry.StatusCode);
        _json.WriteString(s_outcome, entry.Outcome);
        _json.WriteString(s_forwarderError, entry.ForwarderError);
        WriteNumber(s_durationMs, entry.DurationMs);
        WriteNumberOrNull(s_upstreamMs, entry.UpstreamMs);
        WriteNumberOrNull(s_queueMs, entry.QueueMs);
        WriteNumberOrNull(s_requestBytes, entry.RequestBytes);
        WriteNumberOrNull(s_responseBytes, entry.ResponseBytes);
        _json.WriteString(s_protocol, entry.Protocol);
        _json.WriteString(s_connectionId, entry.ConnectionId);
        if (hasTrace)
        {
            _json.WriteString(s_traceId, traceId);
        }
        else
        {
            _json.WriteNull(s_traceId);
        }

        _json.WriteStartObject(s_eventId);
        _json.WriteNumber(s_id, EventId);
        _json.WriteString(s_name, s_eventName);
        _json.WriteEndObject();
        _json.WriteString(s_sourceContextName, s_sourceContextValue);
        _json.WriteString(s_requestId, entry.RequestId);
        _json.WriteEndObject();
        _json.Flush();

        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
    }

    // Renders the message as Serilog renders the template: strings in quotes, missing values as null.
    private ReadOnlySpan<char> RenderMessage(in CompletionLogEntry entry, ReadOnlySpan<char> traceId)
    {
        ReadOnlySpan<char> traceQuote = traceId.IsEmpty ? "" : "\"";
        ReadOnlySpan<char> trace = traceId.IsEmpty ? "null" : traceId;
        while (true)
        {
            var destination = _messageBuffer.AsSpan();
            if (destination.TryWrite(
                CultureInfo.InvariantCulture,
                $"{new Quoted(entry.Method)} via route {new Quoted(entry.RouteId)} to {new Quoted(entry.ClusterId)}/{new Quoted(entry.DestinationId)}: "
                + $"{entry.StatusCode} {new Quoted(entry.Outcome)} {new Quoted(entry.ForwarderError)} in {entry.DurationMs:0.###} ms "
                + $"(upstream {new Number(entry.UpstreamMs)} ms, queue {new Number(entry.QueueMs)} ms), "
                + $"{new Number(entry.RequestBytes)} bytes in, {new Number(entry.ResponseBytes)} bytes out, "
                + $"{new Quoted(entry.Protocol)} connection {new Quoted(entry.ConnectionId)}, trace {traceQuote}{trace}{traceQuote}",
                out var written))
            {
                return destination[..written];
            }

            // Long route or cluster ids: grow once for this and later lines.
            _messageBuffer = new char[_messageBuffer.Length * 2];
        }
    }

    // Utf8JsonWriter writes 17 significant digits (72.03529999999999); the shortest form that reads back as
    // the same double (72.0353) is what Serilog writes and what people read.
    private void WriteNumber(JsonEncodedText name, double value)
    {
        Span<byte> text = stackalloc byte[32];
        if (!double.IsFinite(value) || !value.TryFormat(text, out var length, default, CultureInfo.InvariantCulture))
        {
            _json.WriteNull(name);
            return;
        }

        _json.WritePropertyName(name);
        _json.WriteRawValue(text[..length], skipInputValidation: true);
    }

    private void WriteNumberOrNull(JsonEncodedText name, double? value)
    {
        if (value is { } number)
        {
            WriteNumber(name, number);
        }
        else
        {
            _json.WriteNull(name);
        }
    }

    private void WriteNumberOrNull(JsonEncodedText name, long? value)
    {
        if (value is { } number)
        {
            _json.WriteNumber(name, number);
        }
        else
        {
            _json.WriteNull(name);
        }
    }

    private static bool WriteHex(ActivityTraceId id, Span<char> destination)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.CopyTo(bytes);
        return Convert.TryToHexStringLower(bytes, destination, out _);
    }

    private static bool WriteHex(ActivitySpanId id, Span<char> destination)
    {
        Span<byte> bytes = stackalloc byte[8];
        id.CopyTo(bytes);
        return Convert.TryToHexStringLower(bytes, destination, out _);
    }

    // Serilog derives @i from the message template; asking its formatter once keeps the value identical to
    // what the Serilog path writes for the same line.
    private static string ComputeTemplateHash()
    {
        var template = new MessageTemplateParser().Parse(MessageTemplate);
        var logEvent = new LogEvent(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, template, []);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        new RenderedCompactJsonFormatter().Format(logEvent, text);
        using var document = JsonDocument.Parse(text.ToString());
        return document.RootElement.GetProperty("@i").GetString()!;
    }

    private static bool TryWriteNull(Span<char> destination, out int charsWritten)
    {
        charsWritten = "null".TryCopyTo(destination) ? 4 : 0;
        return charsWritten > 0;
    }

    /// <summary>A string in double quotes, or <c>null</c>, formatted without allocating.</summary>
    private readonly struct Quoted(string? value) : ISpanFormattable
    {
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        {
            if (value is null)
            {
                return TryWriteNull(destination, out charsWritten);
            }

            charsWritten = 0;
            if (destination.Length < value.Length + 2)
            {
                return false;
            }

            destination[0] = '"';
            value.CopyTo(destination[1..]);
            destination[value.Length + 1] = '"';
            charsWritten = value.Length + 2;
            return true;
        }

        public string ToString(string? format, IFormatProvider? formatProvider) => value is null ? "null" : $"\"{value}\"";
    }

    /// <summary>A number with up to three decimals, or <c>null</c>, formatted without allocating.</summary>
    private readonly struct Number(double? value) : ISpanFormattable
    {
        public Number(long? value)
            : this((double?)value)
        {
        }

        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        {
            if (value is { } number)
            {
                return number.TryFormat(destination, out charsWritten, "0.###", CultureInfo.InvariantCulture);
            }

            return TryWriteNull(destination, out charsWritten);
        }

        public string ToString(string? format, IFormatProvider? formatProvider) =>
            value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "null";
    }
}
