using System.Globalization;
using ConnLeakGuard.LeakLab.Lab;
using ConnLeakGuard.LeakLab.Results;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ConnLeakGuard.LeakLab.Output;

/// <summary>
/// The table that LeakLab redraws every second while it runs: the latest sample of each run side by side.
/// </summary>
internal sealed class LiveView
{
    private readonly LabOptions _options;
    private readonly Dictionary<RunMode, LiveUpdate> _latest = [];
    private readonly Dictionary<RunMode, int> _peakUpstreamConnections = [];

    public LiveView(LabOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    public void Update(LiveUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);

        _latest[update.Mode] = update;
        int connections = update.Sample.UpstreamConnections ?? 0;
        _peakUpstreamConnections[update.Mode] = Math.Max(_peakUpstreamConnections.GetValueOrDefault(update.Mode), connections);
    }

    public IRenderable Render()
    {
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title($"[bold]LeakLab[/] · {Markup.Escape(_options.Scenario.Name)} · per-host cap {_options.GuardLimits.MaxConnectionsPerHost} · upstream budget {Formats.Mebibytes(_options.UpstreamBudgetBytes)}")
            .AddColumn("now")
            .AddColumn(new TableColumn("[red]unguarded[/]").RightAligned())
            .AddColumn(new TableColumn("[green]guarded[/]").RightAligned());

        AddRow(table, "progress", Progress);
        AddRow(table, "state", update => Markup.Escape(update.Status));
        AddRow(table, "upstream connections (peak)", update =>
            $"{Formats.Count(update.Sample.UpstreamConnections)} ({Formats.Count(_peakUpstreamConnections.GetValueOrDefault(update.Mode))})");
        AddRow(table, "upstream resident memory", update => Formats.Mebibytes(update.Sample.UpstreamResidentBytes));
        AddRow(table, "upstream managed heap", update => Formats.Mebibytes(update.Sample.UpstreamManagedBytes));
        AddRow(table, "upstream threads", update => Formats.Count(update.Sample.UpstreamThreads));
        AddRow(table, "guard inbound connections", update => Formats.Count(update.Sample.GuardConnections ?? update.Sample.GuardSockets));
        AddRow(table, "guard resident memory", update => Formats.Mebibytes(update.Sample.GuardResidentBytes));
        AddRow(table, "guard threads", update => Formats.Count(update.Sample.GuardThreads));
        AddRow(table, "healthy ok / failed (last s)", update =>
            $"{update.Sample.HealthySucceeded} / {(update.Sample.HealthyFailed > 0 ? $"[red]{update.Sample.HealthyFailed}[/]" : "0")}");
        AddRow(table, "healthy p50 / p99 (last s)", update =>
            $"{Formats.Milliseconds(update.Sample.HealthyP50Milliseconds)} / {Formats.Milliseconds(update.Sample.HealthyP99Milliseconds)}");
        AddRow(table, "misbehaving connections open", update => Formats.Count(update.Sample.HostileOpen));
        return table;
    }

    /// <summary>Formats one update as a single plain line, for output that is not a terminal.</summary>
    public static string FormatLine(LiveUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);

        Sample sample = update.Sample;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{ScenarioRun.ModeName(update.Mode),-9} t={sample.Seconds,5:0} s  upstream {Formats.Count(sample.UpstreamConnections)} conns {Formats.Mebibytes(sample.UpstreamResidentBytes)}  guard {Formats.Count(sample.GuardConnections ?? sample.GuardSockets)} conns {Formats.Mebibytes(sample.GuardResidentBytes)}  healthy {sample.HealthySucceeded} ok {sample.HealthyFailed} failed  [{update.Status}]");
    }

    private string Progress(LiveUpdate update)
    {
        double fraction = update.Sample.Seconds / update.PlannedSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"{Formats.Bar(fraction, 16)} {update.Sample.Seconds:0}/{update.PlannedSeconds:0} s");
    }

    private void AddRow(Table table, string label, Func<LiveUpdate, string> cell)
    {
        table.AddRow(
            new Markup(label),
            new Markup(_latest.TryGetValue(RunMode.Unguarded, out LiveUpdate? unguarded) ? cell(unguarded) : Formats.Missing),
            new Markup(_latest.TryGetValue(RunMode.Guarded, out LiveUpdate? guarded) ? cell(guarded) : Formats.Missing));
    }
}
