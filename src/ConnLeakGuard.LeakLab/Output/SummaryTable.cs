using System.Globalization;
using ConnLeakGuard.LeakLab.Results;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ConnLeakGuard.LeakLab.Output;

/// <summary>The final side-by-side table of both runs and the table of checks.</summary>
internal static class SummaryTable
{
    public static IRenderable Create(LabResult result)
    {
        ArgumentNullException.ThrowIfNull(result);

        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(result.Scenario)}[/]: {Markup.Escape(result.Description)}")
            .AddColumn("")
            .AddColumn(new TableColumn("[red]unguarded[/]").RightAligned())
            .AddColumn(new TableColumn("[green]guarded[/]").RightAligned());

        AddRow(table, result, "clients connect to", run => run.Target);
        AddRow(table, result, "run length", run => Formats.Seconds(run.DurationSeconds));
        AddRow(table, result, "upstream fate", UpstreamFate);
        AddRow(table, result, "upstream peak connections", run =>
            string.Create(CultureInfo.InvariantCulture, $"{Formats.Count(run.Upstream.PeakConnections)} (cap {result.Settings.GuardMaxConnectionsPerHost})"));
        AddRow(table, result, "upstream resident memory", run =>
            $"{Formats.Mebibytes(run.Upstream.BaselineResidentBytes)} → {Formats.Mebibytes(run.Upstream.PeakResidentBytes)}");
        AddRow(table, result, "upstream managed heap peak", run => Formats.Mebibytes(run.Upstream.PeakManagedBytes));
        AddRow(table, result, "upstream threads peak", run => Formats.Count(run.Upstream.PeakThreads));
        AddRow(table, result, "guard inbound connections peak", run => Formats.Count(run.Guard?.PeakConnections ?? run.Guard?.PeakSockets));
        AddRow(table, result, "guard resident memory", run =>
            run.Guard is null ? Formats.Missing : $"{Formats.Mebibytes(run.Guard.BaselineResidentBytes)} → {Formats.Mebibytes(run.Guard.PeakResidentBytes)}");
        AddRow(table, result, "guard threads peak", run => Formats.Count(run.Guard?.PeakThreads));
        AddRow(table, result, "healthy requests completed", run => Formats.Count(run.Healthy.Completed));
        AddRow(table, result, "healthy success rate", run => Formats.Percent(run.Healthy.SuccessRatePercent));
        AddRow(table, result, "healthy latency p50 / p99", run =>
            $"{Formats.Milliseconds(run.Healthy.P50Milliseconds)} / {Formats.Milliseconds(run.Healthy.P99Milliseconds)}");
        AddRow(table, result, "healthy latency max", run => Formats.Milliseconds(run.Healthy.MaxMilliseconds));
        AddRow(table, result, "healthy failures", run =>
            run.Healthy.FailureReasons.Count == 0
                ? "none"
                : string.Join(", ", run.Healthy.FailureReasons.Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Key} {pair.Value}"))));
        AddRow(table, result, "misbehaving connections opened", run => Formats.Count(run.Clients.Sum(client => client.Opened)));
        AddRow(table, result, "… closed by the server", run => Formats.Count(run.Clients.Sum(client => client.ClosedByServer)));
        AddRow(table, result, "… refused or timed out", run => Formats.Count(run.Clients.Sum(client => client.ConnectFailures)));
        return table;
    }

    public static IRenderable CreateChecks(LabResult result)
    {
        ArgumentNullException.ThrowIfNull(result);

        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title("[bold]checks[/] (the guarded ones decide the exit code)")
            .AddColumn("")
            .AddColumn("check")
            .AddColumn("expected")
            .AddColumn("measured");
        foreach (CheckResult check in result.Checks)
        {
            table.AddRow(
                check.Passed ? "[green]pass[/]" : "[red]FAIL[/]",
                Markup.Escape(check.Name),
                Markup.Escape(check.Expected),
                Markup.Escape(check.Actual));
        }

        return table;
    }

    private static string UpstreamFate(RunResult run)
    {
        if (run.Error is not null && run.Samples.Count == 0)
        {
            return "[red]run failed[/]";
        }

        UpstreamSummary upstream = run.Upstream;
        if (upstream.KilledByBudget)
        {
            return string.Create(CultureInfo.InvariantCulture, $"[red]OOM-killed at {upstream.ExitedAtSeconds:0.0} s[/]");
        }

        return upstream.ExitCode is null
            ? "[green]alive[/]"
            : string.Create(CultureInfo.InvariantCulture, $"[red]exited {upstream.ExitCode} at {upstream.ExitedAtSeconds:0.0} s[/]");
    }

    private static void AddRow(Table table, LabResult result, string label, Func<RunResult, string> cell)
    {
        table.AddRow(
            new Markup(Markup.Escape(label)),
            new Markup(result.Unguarded is null ? Formats.Missing : Escaped(cell(result.Unguarded))),
            new Markup(result.Guarded is null ? Formats.Missing : Escaped(cell(result.Guarded))));
    }

    // Cells that carry their own colour markup start with '['; everything else is plain text.
    private static string Escaped(string cell) => cell.StartsWith('[') ? cell : Markup.Escape(cell);
}
