using System.Diagnostics.Tracing;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Receives YARP's forwarder events (EventSource <c>Yarp.ReverseProxy</c>) in process and turns the stage
/// events into <see cref="ForwarderMetrics.StageCompleted"/> durations and into the byte counts of
/// <see cref="ProxyRequestTelemetry"/>.
/// </summary>
/// <remarks>
/// This is what the Yarp.Telemetry.Consumption package does with <c>IForwarderTelemetryConsumer</c>; that package
/// is not among the project's dependencies. EventSource calls listeners synchronously on the thread that
/// writes the event, inside the request's execution context, so <see cref="ProxyRequestTelemetry.Current"/>
/// identifies the request. Event ids and payloads are those of YARP 2.3's ForwarderTelemetry.
/// NOTE: an in-process EventListener allocates an event object and boxes the payload for every event,
/// about eight events per request.
/// </remarks>
internal sealed class ForwarderEventListener(ForwarderMetrics metrics, TimeProvider time) : EventListener
{
    private const string SourceName = "Yarp.ReverseProxy";

    private const int ForwarderStageEvent = 4;
    private const int ContentTransferredEvent = 6;

    // Values of YARP's internal ForwarderStage enum.
    private const int SendAsyncStart = 1;
    private const int SendAsyncStop = 2;
    private const int RequestContentTransferStart = 3;
    private const int ResponseContentTransferStart = 4;

    // Field initialisers run before the base constructor, which may already deliver events for a source
    // created earlier, so these are set before the first callback.
    private readonly ForwarderMetrics _metrics = metrics;
    private readonly TimeProvider _time = time;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        ArgumentNullException.ThrowIfNull(eventSource);

        if (eventSource.Name == SourceName)
        {
            // Informational covers every forwarder event; no EventCounterIntervalSec argument, so YARP's
            // polling counters stay off.
            EnableEvents(eventSource, EventLevel.Informational);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        ArgumentNullException.ThrowIfNull(eventData);

        if (ProxyRequestTelemetry.Current is not { } request || eventData.Payload is not { Count: > 0 } payload)
        {
            return;
        }

        switch (eventData.EventId)
        {
            case ForwarderStageEvent when payload[0] is int stage:
                OnStage(request, stage);
                break;

            case ContentTransferredEvent when payload is [bool isRequest, long contentLength, ..]:
                OnContentTransferred(request, isRequest, contentLength);
                break;
        }
    }

    private void OnStage(ProxyRequestTelemetry request, int stage)
    {
        var now = _time.GetTimestamp();
        switch (stage)
        {
            case SendAsyncStart:
                request.SendStart = now;
                break;

            case SendAsyncStop:
                request.SendStop = now;
                if (request.SendStart != 0)
                {
                    _metrics.StageCompleted(ForwarderMetrics.StageSend, _time.GetElapsedTime(request.SendStart, now));
                }

                break;

            case RequestContentTransferStart:
                request.RequestContentStart = now;
                break;

            case ResponseContentTransferStart:
                request.ResponseContentStart = now;
                break;
        }
    }

    private void OnContentTransferred(ProxyRequestTelemetry request, bool isRequest, long contentLength)
    {
        var now = _time.GetTimestamp();
        if (isRequest)
        {
            request.RequestBytes = contentLength;
            if (request.RequestContentStart != 0)
            {
                _metrics.StageCompleted(ForwarderMetrics.StageRequestContent, _time.GetElapsedTime(request.RequestContentStart, now));
            }
        }
        else
        {
            request.ResponseBytes = contentLength;
            if (request.ResponseContentStart != 0)
            {
                _metrics.StageCompleted(ForwarderMetrics.StageResponseContent, _time.GetElapsedTime(request.ResponseContentStart, now));
            }
        }
    }
}
