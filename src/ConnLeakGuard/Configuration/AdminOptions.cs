namespace ConnLeakGuard.Configuration;

/// <summary>The admin listener that serves metrics and health (section <c>ConnLeakGuard:Admin</c>).</summary>
internal sealed class AdminOptions
{
    /// <summary>
    /// Admin listener addresses. Default <c>http://127.0.0.1:9464</c>: 9464 is the port registered for
    /// OpenTelemetry Prometheus exporters, and 9090 is avoided because Prometheus itself uses it.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:9464";

    /// <summary>
    /// Whether state-changing admin actions are accepted from non-loopback clients. Default false: a
    /// connection close by id is an operator action, not something the network should reach.
    /// </summary>
    public bool AllowRemoteActions { get; set; }
}
