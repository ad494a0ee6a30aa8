using System.Globalization;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Parses sizes written as a byte count (<c>8192</c>) or with a binary or decimal unit
/// (<c>8KiB</c>, <c>1MiB</c>, <c>10KB</c>, <c>240B</c>).
/// </summary>
internal static class ByteSizeParser
{
    private static readonly (string Suffix, long Factor)[] s_units =
    [
        ("KiB", 1024L), ("MiB", 1024L * 1024), ("GiB", 1024L * 1024 * 1024),
        ("KB", 1000L), ("MB", 1000L * 1000), ("GB", 1000L * 1000 * 1000),
        ("B", 1L),
    ];

    /// <summary>Tries to parse <paramref name="text"/> as a number of bytes.</summary>
    public static bool TryParse(string text, out long value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);

        value = 0;
        error = null;
        var trimmed = text.Trim();

        var factor = 1L;
        var number = trimmed.AsSpan();
        foreach (var (suffix, unitFactor) in s_units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = unitFactor;
                number = trimmed.AsSpan(0, trimmed.Length - suffix.Length).Trim();
                break;
            }
        }

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var count) || count < 0)
        {
            error = "not a valid size; use a byte count or a unit: B, KiB, MiB, GiB (for example '32KiB')";
            return false;
        }

        value = checked((long)(count * factor));
        return true;
    }

    /// <summary>Formats a byte count with the largest binary unit that divides it exactly.</summary>
    public static string Format(long value)
    {
        if (value >= 1024L * 1024 * 1024 && value % (1024L * 1024 * 1024) == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value / (1024L * 1024 * 1024)}GiB");
        }

        if (value >= 1024L * 1024 && value % (1024L * 1024) == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value / (1024L * 1024)}MiB");
        }

        if (value >= 1024 && value % 1024 == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value / 1024}KiB");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value}B");
    }
}
