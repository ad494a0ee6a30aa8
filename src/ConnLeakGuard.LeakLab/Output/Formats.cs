using System.Globalization;
using ConnLeakGuard.LeakLab.Cli;

namespace ConnLeakGuard.LeakLab.Output;

/// <summary>Number formats shared by the live view and the final tables; "–" marks a missing value.</summary>
internal static class Formats
{
    public const string Missing = "–";

    public static string Mebibytes(long? bytes) => bytes is null ? Missing : UnitParser.FormatMebibytes(bytes.Value);

    public static string Count(long? value) => value is null ? Missing : value.Value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Milliseconds(double? value) =>
        value is null ? Missing : value.Value.ToString(value.Value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";

    public static string Seconds(double? value) =>
        value is null ? Missing : value.Value.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    public static string Percent(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + " %";

    /// <summary>Draws a text progress bar of <paramref name="width"/> cells.</summary>
    public static string Bar(double fraction, int width)
    {
        int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return new string('█', filled) + new string('░', width - filled);
    }
}
