namespace ConnLeakGuard;

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Normal exit, including a completed graceful shutdown.</summary>
    public const int Success = 0;

    /// <summary>The configuration is invalid, or the command line is.</summary>
    public const int InvalidConfiguration = 2;
}
