namespace ConnLeakGuard.Configuration;

/// <summary>
/// Limits on client connections to the guard (section <c>ConnLeakGuard:Inbound</c>). Each default is finite
/// and states its reason; the comparisons name the Go <c>net/http</c> and nginx settings that match.
/// </summary>
internal sealed class InboundOptions
{
    /// <summary>
    /// Proxy listener addresses, separated by ';'. Default <c>http://127.0.0.1:8080</c>: the shipped default
    /// binds to loopback, and the Kubernetes manifests set <c>http://0.0.0.0:8080</c>.
    /// </summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>HTTP versions on the proxy listener. Default <see cref="ListenerProtocols.Http1"/>: h2c needs prior knowledge.</summary>
    public ListenerProtocols Protocols { get; set; } = ListenerProtocols.Http1;

    /// <summary>
    /// Maximum time to receive the request line and headers; then 408 and close. Default 10 s: ample for a
    /// real client on a slow link, short enough that slowloris holds a socket for seconds, not minutes
    /// (Go <c>ReadHeaderTimeout</c>, nginx <c>client_header_timeout</c> 60 s).
    /// </summary>
    [Setting(Min = "100ms", Max = "10m")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Maximum time to read the whole request body; then 408 if the response has not started, else abort.
    /// Default 60 s, nginx's <c>client_body_timeout</c> (which nginx applies between reads). Go <c>ReadTimeout</c>.
    /// </summary>
    [Setting(Min = "100ms", Max = "1h", AllowOff = true)]
    public TimeSpan RequestBodyTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Minimum request body rate in bytes per second, after <see cref="MinRequestBodyDataRateGracePeriod"/>.
    /// Default 240 B/s, Kestrel's default: a slow-body sender at 10 B/s is cut after the grace period.
    /// </summary>
    [Setting(Min = "1B", Max = "1GiB", AllowOff = true)]
    public long? MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>Time before <see cref="MinRequestBodyDataRate"/> applies. Default 5 s, Kestrel's default.</summary>
    [Setting(Min = "1s", Max = "10m")]
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Maximum time from the end of the request headers to the end of the response; then 504 if the
    /// response has not started, else abort. Default 120 s, twice the upstream response-headers timeout so
    /// that a slow but working upstream is not cut (Go <c>WriteTimeout</c>). Route metadata
    /// <c>ConnLeakGuard.ResponseTimeout</c> relaxes it for streaming routes.
    /// </summary>
    [Setting(Min = "1s", Max = "24h", AllowOff = true)]
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Minimum rate at which the client must read the response, in bytes per second, after
    /// <see cref="MinResponseDataRateGracePeriod"/>; a slower reader is disconnected. Default 240 B/s,
    /// Kestrel's default (nginx <c>send_timeout</c> 60 s between writes). Route metadata
    /// <c>ConnLeakGuard.MinResponseDataRate</c> relaxes it for streaming routes.
    /// </summary>
    [Setting(Min = "1B", Max = "1GiB", AllowOff = true)]
    public long? MinResponseDataRate { get; set; } = 240;

    /// <summary>
    /// Window over which <see cref="MinResponseDataRate"/> is measured while a write waits on the client.
    /// Default 30 s (Kestrel uses 5 s with a laxer measure; nginx's <c>send_timeout</c> is 60 s): a
    /// Linux client reopens its receive window only after reading about 1/16 of its maximum receive
    /// buffer (384 KiB with the default 6 MiB), so a reader at 20 KB/s shows no progress for up to 20 s.
    /// </summary>
    [Setting(Min = "1s", Max = "10m")]
    public TimeSpan MinResponseDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Maximum idle time between requests on a keep-alive connection. Default 75 s: nginx's
    /// <c>keepalive_timeout</c>, and above the 60 s idle timeout of common cloud load balancers, so the guard
    /// never closes a connection that the balancer is about to reuse (Go <c>IdleTimeout</c>).
    /// </summary>
    [Setting(Min = "100ms", Max = "1h")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(75);

    /// <summary>
    /// Maximum connection age; then a graceful close (<c>Connection: close</c> or GOAWAY) and a hard close
    /// after <see cref="MaxConnectionAgeGracePeriod"/>. Default 10 min, so that clients re-resolve and
    /// rebalance across pods after a scale-out (gRPC <c>MaxConnectionAge</c>; nginx <c>keepalive_time</c> 1 h).
    /// </summary>
    [Setting(Min = "1s", Max = "7d", AllowOff = true)]
    public TimeSpan MaxConnectionAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Random spread subtracted from <see cref="MaxConnectionAge"/>, as a percentage, so that connections
    /// opened together do not close together. Default 10 %.
    /// </summary>
    [Setting(Min = "0%", Max = "50%")]
    public double MaxConnectionAgeJitter { get; set; } = 0.10;

    /// <summary>
    /// Time that an in-flight request may still take after a graceful close was requested; then the
    /// connection is aborted. Default 30 s, gRPC's <c>MaxConnectionAgeGrace</c> order of magnitude.
    /// </summary>
    [Setting(Min = "0s", Max = "1h")]
    public TimeSpan MaxConnectionAgeGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Maximum requests per connection; the response to the last one closes it. Default 1,000, nginx's
    /// <c>keepalive_requests</c>, which bounds per-connection memory that grows with use.
    /// </summary>
    [Setting(Min = "1", Max = "100000000", AllowOff = true)]
    public int? MaxRequestsPerConnection { get; set; } = 1000;

    /// <summary>Maximum request line length (method, target, version); 414 above it. Default 8 KiB, Kestrel's and nginx's.</summary>
    [Setting(Min = "256B", Max = "1MiB")]
    public long MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>
    /// Maximum size of one header line (name and value); 431 above it. Default 8 KiB, nginx's
    /// <c>large_client_header_buffers</c> buffer size.
    /// </summary>
    [Setting(Min = "256B", Max = "1MiB")]
    public long MaxRequestHeaderSize { get; set; } = 8 * 1024;

    /// <summary>
    /// Maximum size of all request headers; 431 above it. Default 32 KiB, Kestrel's default and nginx's
    /// 4 × 8 KiB (Go <c>MaxHeaderBytes</c> 1 MiB).
    /// </summary>
    [Setting(Min = "1KiB", Max = "16MiB")]
    public long MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>Maximum number of request headers; 431 above it. Default 100, Kestrel's default (Apache <c>LimitRequestFields</c>).</summary>
    [Setting(Min = "1", Max = "10000")]
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>
    /// Maximum request body size; 413 above it, before the upstream sees the request when Content-Length
    /// announces it. Default 10 MiB: above typical API payloads (nginx <c>client_max_body_size</c> 1 MiB,
    /// Kestrel 30 MB).
    /// </summary>
    [Setting(Min = "0B", Max = "64GiB", AllowOff = true)]
    public long? MaxRequestBodySize { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Request bodies up to this size are read completely before the request takes an upstream connection
    /// slot, like nginx's <c>proxy_request_buffering</c>. Default 64 KiB: a slow sender of a small body is then
    /// cut by the body limits while it holds only a client connection, never one of the app's connections.
    /// Larger bodies stream after their first 64 KiB. Kestrel holds the bytes, up to 1 MiB per connection.
    /// </summary>
    [Setting(Min = "1KiB", Max = "1MiB", AllowOff = true)]
    public long? RequestBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Maximum open client connections; a connection over the cap is closed at once without a response.
    /// Default 10,000, below the common 65,536 descriptor limit with room for upstream sockets
    /// (nginx <c>worker_connections</c> 512 per worker).
    /// </summary>
    [Setting(Min = "1", Max = "10000000", AllowOff = true)]
    public int? MaxConcurrentConnections { get; set; } = 10_000;

    /// <summary>
    /// Maximum open connections from one client IP address; a connection over the cap is closed at once.
    /// Default 1,000: one tenth of the global cap, so one client cannot take all of it
    /// (nginx <c>limit_conn</c> with <c>$binary_remote_addr</c>).
    /// </summary>
    [Setting(Min = "1", Max = "10000000", AllowOff = true)]
    public int? MaxConnectionsPerClientIp { get; set; } = 1000;

    /// <summary>
    /// Kernel send buffer of each client socket (SO_SNDBUF; Linux doubles the value). Default 64 KiB. With
    /// Linux autotuning a send buffer grows to megabytes, which a reader that stops reading pins in kernel
    /// memory, and which hides its stall from <see cref="MinResponseDataRate"/> because the guard's writes
    /// complete only when half of that buffer has drained. "off" leaves the size to the kernel.
    /// </summary>
    [Setting(Min = "4KiB", Max = "16MiB", AllowOff = true)]
    public long? SocketSendBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Length of the listen queue of connections the kernel has accepted but the guard has not yet taken.
    /// Default 4,096, Linux's default <c>net.core.somaxconn</c>, which also caps it (Kestrel uses 512).
    /// Clients that open a connection per request arrive in bursts; when the queue overflows the kernel
    /// drops their SYN and they retry after a second.
    /// </summary>
    [Setting(Min = "1", Max = "65535")]
    public int ListenBacklog { get; set; } = 4096;

    /// <summary>HTTP/2 limits, applied when <see cref="Protocols"/> includes HTTP/2.</summary>
    public Http2InboundOptions Http2 { get; set; } = new();
}
