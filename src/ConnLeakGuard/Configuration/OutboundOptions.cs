namespace ConnLeakGuard.Configuration;

/// <summary>
/// Guard-wide defaults for connections to upstreams (section <c>ConnLeakGuard:Outbound</c>). A cluster
/// overrides any of them with <c>ReverseProxy:Clusters:NAME:Metadata:ConnLeakGuard.KEY</c>.
/// A record, so that two resolved option sets compare by value when a reload decides whether a
/// cluster's connection pool must be rebuilt.
/// </summary>
internal sealed record OutboundOptions
{
    /// <summary>
    /// Maximum connections to one destination, for HTTP/1.1 and HTTP/2 alike. Default 100: bounds the
    /// sockets, threads and buffers that the app behind the guard must hold (Go <c>MaxConnsPerHost</c>,
    /// nginx <c>max_conns</c>).
    /// </summary>
    [Setting(Min = "1", Max = "100000")]
    public int MaxConnectionsPerHost { get; set; } = 100;

    /// <summary>
    /// Time an idle pooled connection is kept. Default 4 s: below the 5 s keep-alive timeout of Node.js
    /// servers, the shortest common default, so the guard retires a connection before the upstream closes it
    /// (Go <c>IdleConnTimeout</c>, nginx <c>keepalive_timeout</c> in <c>upstream</c>).
    /// </summary>
    [Setting(Min = "100ms", Max = "1h")]
    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Maximum age of a pooled connection, after which it is not reused. Default 5 min, so DNS changes are
    /// picked up within minutes (nginx <c>keepalive_time</c> 1 h).
    /// </summary>
    [Setting(Min = "1s", Max = "24h", AllowOff = true)]
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Maximum time for the TCP connect and TLS handshake; then 502. Default 5 s (Go <c>TLSHandshakeTimeout</c>
    /// 10 s, nginx <c>proxy_connect_timeout</c> 60 s): a loopback or in-cluster connect takes milliseconds.
    /// </summary>
    [Setting(Min = "100ms", Max = "5m")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time to wait for <c>100 Continue</c> before sending the body anyway. Default 1 s, .NET's default.</summary>
    [Setting(Min = "0s", Max = "1m")]
    public TimeSpan Expect100ContinueTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Maximum size of the upstream's response headers; above it the response fails with 502. Default 64 KiB, .NET's default.</summary>
    [Setting(Min = "1KiB", Max = "16MiB")]
    public long MaxResponseHeadersSize { get; set; } = 64 * 1024;

    /// <summary>Time spent reading an unread response body so its connection can be reused. Default 2 s, .NET's default.</summary>
    [Setting(Min = "0s", Max = "1m")]
    public TimeSpan ResponseDrainTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Maximum time from the request's arrival to the upstream's response headers, covering the wait queue,
    /// the connect and the upstream's think time; then 504. Default 60 s, nginx's <c>proxy_read_timeout</c>
    /// (Go <c>ResponseHeaderTimeout</c>).
    /// </summary>
    [Setting(Min = "100ms", Max = "1h")]
    public TimeSpan ResponseHeadersTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Maximum idle time while streaming a request or response body to or from the upstream; then 504 or an
    /// aborted response. Default 60 s, nginx's <c>proxy_read_timeout</c>, applied between reads.
    /// </summary>
    [Setting(Min = "100ms", Max = "24h")]
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Maximum requests waiting for a connection to one destination; more get 503 at once. Default 1,000:
    /// ten requests per connection at the default cap.
    /// </summary>
    [Setting(Min = "0", Max = "1000000")]
    public int MaxPendingRequests { get; set; } = 1000;

    /// <summary>
    /// Maximum time a request waits for a connection; then 503 with <c>Retry-After</c>. Default 5 s: a
    /// client retrying elsewhere beats one that waits for a saturated pool.
    /// </summary>
    [Setting(Min = "1ms", Max = "5m")]
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Idle time after which the guard pings an HTTP/2 upstream. Default 30 s.</summary>
    [Setting(Min = "1s", Max = "1h", AllowOff = true)]
    public TimeSpan Http2KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time to wait for an HTTP/2 ping reply before dropping the connection. Default 20 s, .NET's default.</summary>
    [Setting(Min = "1s", Max = "1h")]
    public TimeSpan Http2KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Returns a copy, for per-cluster overrides of the guard-wide defaults.</summary>
    public OutboundOptions Copy() => this with { };
}
