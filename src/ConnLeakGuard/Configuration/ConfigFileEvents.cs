namespace ConnLeakGuard.Configuration;

/// <summary>
/// Reports configuration files that changed but could not be read or parsed. Configuration providers are
/// built before dependency injection exists, so they report here and <see cref="GuardOptionsMonitor"/>
/// logs and counts.
/// </summary>
internal static class ConfigFileEvents
{
    /// <summary>Raised with the file path and the error.</summary>
    public static event Action<string, string>? Failed;

    /// <summary>Reports a failed reload of <paramref name="path"/>.</summary>
    public static void ReportFailure(string path, string error) => Failed?.Invoke(path, error);
}
