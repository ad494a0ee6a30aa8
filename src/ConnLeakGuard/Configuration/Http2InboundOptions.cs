namespace ConnLeakGuard.Configuration;

/// <summary>
/// HTTP/2 limits on the proxy listener (section <c>ConnLeakGuard:Inbound:Http2</c>). Kestrel's rapid-reset
/// protection stays on: the guard never sets the switch that disables it.
/// </summary>
internal sealed class Http2InboundOptions
{
    /// <summary>Maximum concurrent streams per connection. Default 100, Kestrel's and nginx's <c>http2_max_concurrent_streams</c> 128 order.</summary>
    [Setting(Min = "1", Max = "10000")]
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Idle time after which the guard pings the client. Default 30 s, so dead peers are found within a minute.</summary>
    [Setting(Min = "1s", Max = "1h", AllowOff = true)]
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time to wait for a ping reply before closing the connection. Default 20 s, Kestrel's default.</summary>
    [Setting(Min = "1s", Max = "1h")]
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
