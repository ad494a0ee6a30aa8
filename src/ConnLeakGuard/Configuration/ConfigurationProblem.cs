namespace ConnLeakGuard.Configuration;

/// <summary>An invalid configuration value: the key, the value as written, and what is allowed.</summary>
internal sealed record ConfigurationProblem(string Key, string? Value, string Message)
{
    /// <summary>Formats the problem as the single line printed at start-up and by <c>--check-config</c>.</summary>
    public override string ToString() => Value is null
        ? $"{Key}: {Message}"
        : $"{Key} = '{Value}': {Message}";
}
