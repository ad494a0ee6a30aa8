namespace ConnLeakGuard;

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Normal exit, including a completed graceful shutdown.</summary>
    public const int Success = 0;

    /// <summary>The configuration is invalid, or the command line is.</summary>
    public const int InvalidConfiguration = 2;

    /// <summary>A listener could not bind its address, usually because another process uses the port.</summary>
    public const int ListenFailed = 3;
}
