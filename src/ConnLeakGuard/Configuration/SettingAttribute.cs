namespace ConnLeakGuard.Configuration;

/// <summary>
/// Declares the allowed range of one guard setting. <see cref="GuardOptionsBinder"/> reads it to parse and
/// check the configured value and to print one error line naming the key, the value and this range.
/// </summary>
/// <remarks>
/// The property type decides the syntax: <see cref="TimeSpan"/> is a duration, <see cref="long"/> a size in
/// bytes, <see cref="int"/> a count, <see cref="double"/> a percentage. <see cref="Min"/> and <see cref="Max"/>
/// are written in the same syntax as the configuration.
/// </remarks>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
internal sealed class SettingAttribute : Attribute
{
    /// <summary>Smallest allowed value, in configuration syntax (for example "100ms").</summary>
    public string? Min { get; init; }

    /// <summary>Largest allowed value, in configuration syntax (for example "1h").</summary>
    public string? Max { get; init; }

    /// <summary>
    /// Whether the limit may be switched off by writing "off". A disabled limit is logged as a warning at
    /// start-up, because an unbounded limit is how connections leak.
    /// </summary>
    public bool AllowOff { get; init; }
}
