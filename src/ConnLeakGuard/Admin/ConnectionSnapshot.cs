using System.Text.Json.Serialization;

namespace ConnLeakGuard.Admin;

/// <summary>One row of the connection table, as served by <c>/debug/connections</c> and <c>/debug/leaks</c>.</summary>
internal sealed class ConnectionSnapshot
{
    /// <summary><c>inbound</c> or <c>outbound</c>.</summary>
    public required string Side { get; init; }

    /// <summary>Kestrel's connection id for inbound connections, <c>out-N</c> for outbound ones.</summary>
    public required string Id { get; init; }

    /// <summary>A value of <see cref="Telemetry.ConnectionStates"/>.</summary>
    public required string State { get; init; }

    /// <summary>
    /// Inbound: <c>HTTP/1.1</c>, <c>HTTP/2</c>, or <c>upgraded</c> once switched to another protocol; null
    /// before the first request. Outbound: null, because the stream below the handler does not see it.
    /// </summary>
    public string? Protocol { get; init; }

    /// <summary>The peer's address: the client for inbound connections, the upstream for outbound ones.</summary>
    public string? RemoteAddress { get; init; }

    /// <summary>The peer's port.</summary>
    public int? RemotePort { get; init; }

    /// <summary>The guard's own port of the connection, as <c>ss</c> shows it.</summary>
    public int LocalPort { get; init; }

    /// <summary>Outbound only: the cluster id.</summary>
    public string? Cluster { get; init; }

    /// <summary>Outbound only: the destination "host:port" as configured.</summary>
    public string? Destination { get; init; }

    /// <summary>Seconds since the connection opened.</summary>
    public double AgeSeconds { get; init; }

    /// <summary>Seconds since the connection last made progress.</summary>
    public double IdleSeconds { get; init; }

    /// <summary>Seconds since the connection entered <see cref="State"/>.</summary>
    public double StateSeconds { get; init; }

    /// <summary>Requests served: started on an inbound connection, written to an outbound one.</summary>
    public long Requests { get; init; }

    /// <summary>Inbound: request body bytes. Outbound: bytes received from the upstream.</summary>
    public long BytesRead { get; init; }

    /// <summary>Inbound: response body bytes. Outbound: bytes sent to the upstream.</summary>
    public long BytesWritten { get; init; }

    /// <summary>Leak report only: <c>stalled</c> or <c>age</c>, the threshold the connection crossed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LeakReason { get; init; }

    /// <summary>Timestamp of the open, for sorting oldest first.</summary>
    [JsonIgnore]
    public long OpenedTimestamp { get; init; }
}
