using System.Diagnostics.Metrics;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// The guard's own meter, <c>ConnLeakGuard</c>. Label values are bounded: reasons and statuses come from
/// fixed sets, clusters and destinations from the configuration; never paths or client addresses.
/// </summary>
internal sealed class GuardMetrics
{
    /// <summary>Meter name, as selected by the OpenTelemetry setup and by tests.</summary>
    public const string MeterName = "ConnLeakGuard";

    private readonly Counter<long> _connectionsClosed;
    private readonly Counter<long> _requestsRejected;
    private readonly Counter<long> _configReloads;

    public GuardMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);

        Meter = meterFactory.Create(MeterName);

        _connectionsClosed = Meter.CreateCounter<long>(
            "connleakguard.inbound.connections.closed",
            unit: "{connection}",
            description: "Client connections closed by the guard, by the limit that closed them.");

        _requestsRejected = Meter.CreateCounter<long>(
            "connleakguard.inbound.requests.rejected",
            unit: "{request}",
            description: "Client requests rejected by the guard, by limit and response status.");

        _configReloads = Meter.CreateCounter<long>(
            "connleakguard.config.reloads",
            unit: "{reload}",
            description: "Configuration reloads, by result (success or failure).");
    }

    /// <summary>The meter that the outbound, overload and registry components add their instruments to.</summary>
    public Meter Meter { get; }

    /// <summary>Counts a client connection closed by <paramref name="reason"/>.</summary>
    public void ConnectionClosed(string reason) =>
        _connectionsClosed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts a client request rejected by <paramref name="reason"/> with <paramref name="status"/>.</summary>
    public void RequestRejected(string reason, int status) =>
        _requestsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("status", status));

    /// <summary>Counts a configuration reload with its result.</summary>
    public void ConfigReloaded(bool success) =>
        _configReloads.Add(1, new KeyValuePair<string, object?>("result", success ? "success" : "failure"));
}
