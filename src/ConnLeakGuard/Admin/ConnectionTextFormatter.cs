using System.Globalization;
using System.Text;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Formats a <see cref="ConnectionReport"/> as plain text for a terminal: one totals line per side, then a
/// table with columns padded to their widest value, like <c>ss</c> and <c>kubectl get</c> print.
/// </summary>
internal static class ConnectionTextFormatter
{
    private static readonly string[] s_headers =
        ["SIDE", "ID", "STATE", "PROTOCOL", "REMOTE", "LOCAL", "AGE", "IDLE", "IN_STATE", "REQUESTS", "READ", "WRITTEN", "CLUSTER", "DESTINATION"];

    /// <summary>Returns the text of <paramref name="report"/>, ending in a newline.</summary>
    public static string Format(ConnectionReport report)
    {
        ArgumentNullException.ThrowIfNull(report);

        var text = new StringBuilder();
        if (report.StalledThresholdSeconds is { } stalled && report.AgeThresholdSeconds is { } age)
        {
            text.Append(CultureInfo.InvariantCulture, $"suspected leaks: stalled {stalled:0.###}s or older than {age:0.###}s\n");
        }

        foreach (var (side, totals) in report.Totals)
        {
            text.Append(CultureInfo.InvariantCulture, $"{side} {totals.Total}:");
            text.AppendJoin(',', totals.States.Select(static pair => string.Create(CultureInfo.InvariantCulture, $" {pair.Key} {pair.Value}")));
            text.Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"listed {report.Listed}{(report.Truncated ? " (truncated by limit)" : string.Empty)}, oldest first\n\n");

        var rows = report.Connections.Select(ToCells).ToList();
        var widths = s_headers.Select(static header => header.Length).ToArray();
        foreach (var cells in rows)
        {
            for (var i = 0; i < cells.Length; i++)
            {
                widths[i] = Math.Max(widths[i], cells[i].Length);
            }
        }

        AppendLine(text, s_headers, widths);
        foreach (var cells in rows)
        {
            AppendLine(text, cells, widths);
        }

        return text.ToString();
    }

    private static string[] ToCells(ConnectionSnapshot row)
    {
        var remote = row.RemoteAddress is null
            ? "-"
            : row.RemoteAddress.Contains(':', StringComparison.Ordinal)
                ? $"[{row.RemoteAddress}]:{row.RemotePort}"
                : $"{row.RemoteAddress}:{row.RemotePort}";
        var state = row.LeakReason is null ? row.State : $"{row.State} ({row.LeakReason})";

        return
        [
            row.Side,
            row.Id,
            state,
            row.Protocol ?? "-",
            remote,
            row.LocalPort.ToString(CultureInfo.InvariantCulture),
            Duration(row.AgeSeconds),
            Duration(row.IdleSeconds),
            Duration(row.StateSeconds),
            row.Requests.ToString(CultureInfo.InvariantCulture),
            row.BytesRead.ToString(CultureInfo.InvariantCulture),
            row.BytesWritten.ToString(CultureInfo.InvariantCulture),
            row.Cluster ?? "-",
            row.Destination ?? "-",
        ];
    }

    private static string Duration(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0}s");

    private static void AppendLine(StringBuilder text, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            // The last column is not padded, so lines carry no trailing spaces.
            text.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
        }

        text.Append('\n');
    }
}
