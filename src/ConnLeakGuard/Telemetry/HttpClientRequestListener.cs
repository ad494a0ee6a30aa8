using System.Diagnostics.Metrics;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Copies HttpClient's per-request measurements of the upstream call (time waiting for a pooled connection,
/// time until the response headers) into the <see cref="ProxyRequestTelemetry"/> of the request that made them.
/// </summary>
/// <remarks>
/// System.Net.Http records both histograms inside the request's async flow (.NET 8 and later), so the
/// request is found through <see cref="Inbound.InboundRequestContext.Current"/> without any tag lookup.
/// </remarks>
internal sealed class HttpClientRequestListener : IDisposable
{
    private const string HttpMeterName = "System.Net.Http";
    private const string TimeInQueue = "http.client.request.time_in_queue";
    private const string RequestDuration = "http.client.request.duration";

    private readonly MeterListener _listener = new();

    public HttpClientRequestListener()
    {
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == HttpMeterName && instrument.Name is TimeInQueue or RequestDuration)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (instrument, value, _, _) => OnMeasurement(instrument, value));
        _listener.Start();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private static void OnMeasurement(Instrument instrument, double seconds)
    {
        if (Inbound.InboundRequestContext.Current?.Telemetry is not { } request)
        {
            return;
        }

        if (instrument.Name == TimeInQueue)
        {
            request.QueueSeconds = seconds;
        }
        else
        {
            request.UpstreamSeconds = seconds;
        }
    }
}
