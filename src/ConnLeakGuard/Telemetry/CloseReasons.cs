namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Label values of <c>reason</c> on the guard's close and reject counters: one value per limit, named after
/// the setting that enforces it, so a reason can be grepped to its configuration key.
/// </summary>
internal static class CloseReasons
{
    public const string RequestHeadersTimeout = "request_headers_timeout";
    public const string RequestBodyTimeout = "request_body_timeout";
    public const string MinRequestBodyDataRate = "min_request_body_data_rate";
    public const string ResponseTimeout = "response_timeout";
    public const string MinResponseDataRate = "min_response_data_rate";
    public const string KeepAliveTimeout = "keep_alive_timeout";
    public const string MaxConnectionAge = "max_connection_age";
    public const string MaxRequestsPerConnection = "max_requests_per_connection";
    public const string MaxRequestLineSize = "max_request_line_size";
    public const string MaxRequestHeaderSize = "max_request_header_size";
    public const string MaxRequestHeadersTotalSize = "max_request_headers_total_size";
    public const string MaxRequestHeaderCount = "max_request_header_count";
    public const string MaxRequestBodySize = "max_request_body_size";
    public const string MaxConcurrentConnections = "max_concurrent_connections";
    public const string MaxConnectionsPerClientIp = "max_connections_per_client_ip";
    public const string Http2StreamResetLimit = "http2_stream_reset_limit";
    public const string Overload = "overload";
    public const string AdminClose = "admin_close";
    public const string Shutdown = "shutdown";
}
