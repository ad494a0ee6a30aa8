using System.Globalization;

namespace ConnLeakGuard.LeakLab.Cli;

/// <summary>
/// Parses the duration and size notations that LeakLab options and the guard configuration share:
/// durations as <c>500ms</c>, <c>30s</c>, <c>2m</c> or <c>00:00:30</c>, sizes as bytes or with a
/// <c>B</c>, <c>KiB</c>, <c>MiB</c> or <c>GiB</c> suffix.
/// </summary>
internal static class UnitParser
{
    private static readonly (string Suffix, long Factor)[] SizeSuffixes =
    [
        ("GiB", 1024L * 1024 * 1024),
        ("MiB", 1024L * 1024),
        ("KiB", 1024L),
        ("B", 1L),
    ];

    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string value = text.Trim();
        if (value.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
        }

        (string suffix, double secondsPerUnit)[] units = [("ms", 0.001), ("s", 1), ("m", 60)];
        foreach ((string suffix, double secondsPerUnit) in units)
        {
            if (!value.EndsWith(suffix, StringComparison.Ordinal))
            {
                continue;
            }

            string number = value[..^suffix.Length];

            // "ms" also ends with "s": a number that still ends with "m" belongs to the "ms" case.
            if (number.EndsWith('m'))
            {
                continue;
            }

            if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) && amount >= 0)
            {
                duration = TimeSpan.FromSeconds(amount * secondsPerUnit);
                return true;
            }

            return false;
        }

        return false;
    }

    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string value = text.Trim();
        long factor = 1;
        foreach ((string suffix, long suffixFactor) in SizeSuffixes)
        {
            if (value.EndsWith(suffix, StringComparison.Ordinal))
            {
                value = value[..^suffix.Length];
                factor = suffixFactor;
                break;
            }
        }

        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) || amount < 0)
        {
            return false;
        }

        bytes = (long)Math.Round(amount * factor);
        return true;
    }

    /// <summary>Formats a duration in the guard's configuration notation, such as <c>2s</c> or <c>500ms</c>.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration.TotalMilliseconds % 1000 != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalMilliseconds}ms");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalSeconds}s");
    }

    public static string FormatMebibytes(long bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):0.0} MiB");
}
