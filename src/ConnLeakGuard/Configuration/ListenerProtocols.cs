namespace ConnLeakGuard.Configuration;

/// <summary>HTTP versions that a cleartext listener accepts.</summary>
internal enum ListenerProtocols
{
    /// <summary>HTTP/1.1 (and 1.0) only.</summary>
    Http1,

    /// <summary>HTTP/2 with prior knowledge (h2c) only.</summary>
    Http2,

    /// <summary>Both; without TLS, Kestrel can serve only HTTP/1.1 on such a listener and logs a warning.</summary>
    Http1AndHttp2,
}
