namespace ConnLeakGuard.Configuration;

/// <summary>Format of the log lines written to standard output.</summary>
internal enum LogFormat
{
    /// <summary>One compact JSON object per line (CLEF), what Kubernetes log collectors parse.</summary>
    Json,

    /// <summary>Human-readable lines for local runs.</summary>
    Text,
}
