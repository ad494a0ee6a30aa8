using System.Globalization;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Parses durations written either as .NET time spans (<c>00:00:30</c>) or Go/nginx-style values
/// (<c>30s</c>, <c>500ms</c>, <c>2m</c>, <c>1h30m</c>).
/// </summary>
/// <remarks>
/// A bare number is rejected on purpose: <c>100</c> means 100 seconds in nginx, 100 milliseconds in
/// many client libraries and 100 days in <see cref="TimeSpan.Parse(string)"/>.
/// </remarks>
internal static class DurationParser
{
    /// <summary>Tries to parse <paramref name="text"/>; on failure <paramref name="error"/> says what to write instead.</summary>
    public static bool TryParse(string text, out TimeSpan value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);

        value = default;
        error = null;
        var trimmed = text.Trim();

        if (trimmed.Length == 0)
        {
            error = "a duration is required, for example '30s'";
            return false;
        }

        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            error = $"a duration needs a unit: write '{trimmed}s' for seconds or '{trimmed}ms' for milliseconds";
            return false;
        }

        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero)
            {
                return true;
            }

            error = "not a valid time span; use 'hh:mm:ss' or a value such as '30s'";
            return false;
        }

        return TryParseUnits(trimmed, out value, out error);
    }

    /// <summary>Formats a duration the way the configuration accepts it back, for tables and messages.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == Timeout.InfiniteTimeSpan)
        {
            return "off";
        }

        if (value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###}ms");
        }

        if (value.TotalSeconds < 120 || value.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0}s");
        }

        if (value.TotalMinutes < 120 || value.Ticks % TimeSpan.TicksPerHour != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0}m");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value.TotalHours:0}h");
    }

    // Parses a sequence of <number><unit> pairs such as "1h30m" or "1.5s".
    private static bool TryParseUnits(string text, out TimeSpan value, out string? error)
    {
        value = TimeSpan.Zero;
        error = null;
        var position = 0;

        while (position < text.Length)
        {
            var numberStart = position;
            while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] == '.'))
            {
                position++;
            }

            var unitStart = position;
            while (position < text.Length && char.IsAsciiLetter(text[position]))
            {
                position++;
            }

            if (numberStart == unitStart || unitStart == position
                || !double.TryParse(text.AsSpan(numberStart, unitStart - numberStart), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                error = "not a valid duration; use a number with a unit: ms, s, m, h or d (for example '500ms', '30s', '2m')";
                return false;
            }

            var unit = text.AsSpan(unitStart, position - unitStart);
            TimeSpan part;
            if (unit.SequenceEqual("ms"))
            {
                part = TimeSpan.FromMilliseconds(number);
            }
            else if (unit.SequenceEqual("s"))
            {
                part = TimeSpan.FromSeconds(number);
            }
            else if (unit.SequenceEqual("m"))
            {
                part = TimeSpan.FromMinutes(number);
            }
            else if (unit.SequenceEqual("h"))
            {
                part = TimeSpan.FromHours(number);
            }
            else if (unit.SequenceEqual("d"))
            {
                part = TimeSpan.FromDays(number);
            }
            else
            {
                error = $"unknown duration unit '{unit}'; use ms, s, m, h or d";
                return false;
            }

            value += part;
        }

        return true;
    }
}
