using System.Globalization;
using ConnLeakGuard.LeakLab.Results;
using ScottPlot;

namespace ConnLeakGuard.LeakLab.Output;

/// <summary>
/// Draws both runs as a PNG: a column per run (unguarded left, guarded right) and a row each for
/// connections, resident memory and the healthy client's success rate, all against seconds since
/// the clients started. Memory and success rows share their Y range across columns, so the two
/// runs compare at a glance. The connection rows do not, because the guarded counts are two
/// orders of magnitude smaller.
/// </summary>
internal static class ChartRenderer
{
    public const string FileName = "chart.png";

    private const int Width = 1500;
    private const int Height = 1150;
    private const string FontName = "DejaVu Sans";
    private const double MebibyteDivisor = 1024.0 * 1024.0;

    private static readonly Color UnguardedColor = Color.FromHex("#d62728");
    private static readonly Color GuardedColor = Color.FromHex("#2ca02c");
    private static readonly Color GuardColor = Color.FromHex("#1f77b4");
    private static readonly Color LimitColor = Color.FromHex("#555555");

    public static string Render(LabResult result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);

        var multiplot = new Multiplot();
        multiplot.AddPlots(6);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(3, 2);
        Plot[] plots = [.. Enumerable.Range(0, 6).Select(multiplot.GetPlot)];
        foreach (Plot plot in plots)
        {
            plot.Font.Set(FontName);
        }

        double maxSeconds = new[] { result.Unguarded, result.Guarded }
            .Where(run => run is not null && run.Samples.Count > 0)
            .Select(run => run!.Samples[^1].Seconds)
            .DefaultIfEmpty(1)
            .Max();
        double budgetMebibytes = result.Settings.UpstreamBudgetBytes / MebibyteDivisor;
        double memoryTop = Math.Max(budgetMebibytes, MaxResidentMebibytes(result)) * 1.15;

        DrawConnections(plots[0], result.Unguarded, result.Settings, guarded: false);
        DrawConnections(plots[1], result.Guarded, result.Settings, guarded: true);
        DrawMemory(plots[2], result.Unguarded, budgetMebibytes, guarded: false);
        DrawMemory(plots[3], result.Guarded, budgetMebibytes, guarded: true);
        DrawSuccess(plots[4], result.Unguarded, guarded: false);
        DrawSuccess(plots[5], result.Guarded, guarded: true);

        for (int index = 0; index < plots.Length; index++)
        {
            plots[index].Axes.SetLimitsX(0, maxSeconds + 1);
            plots[index].XLabel("seconds since the clients started");
        }

        plots[2].Axes.SetLimitsY(0, memoryTop);
        plots[3].Axes.SetLimitsY(0, memoryTop);
        plots[4].Axes.SetLimitsY(0, 105);
        plots[5].Axes.SetLimitsY(0, 105);

        string path = Path.Combine(directory, FileName);
        multiplot.SavePng(path, Width, Height);
        return path;
    }

    private static void DrawConnections(Plot plot, RunResult? run, LabSettings settings, bool guarded)
    {
        plot.Title(guarded ? "Guarded: connections" : "Unguarded: connections held by the upstream");
        plot.YLabel("open connections");
        if (run is null || run.Samples.Count == 0)
        {
            NoData(plot);
            return;
        }

        Line(plot, run.Samples, sample => sample.UpstreamConnections, guarded ? GuardedColor : UnguardedColor, "upstream (as it reports)", KillPoint(run, run.Upstream.ConnectionsAtKill));
        if (guarded)
        {
            Line(plot, run.Samples, sample => sample.GuardConnections ?? sample.GuardSockets, GuardColor, "guard inbound");
        }
        else
        {
            Line(plot, run.Samples, sample => sample.HostileOpen, Color.FromHex("#ff7f0e"), "held open by misbehaving clients", pattern: LinePattern.Dotted);
        }

        int cap = settings.GuardMaxConnectionsPerHost;
        HorizontalLimit(plot, cap, string.Create(CultureInfo.InvariantCulture, $"guard per-host cap ({cap})"));
        MarkHostileStart(plot, run);
        MarkKill(plot, run);
        double top = MaxValue(run.Samples, sample => Math.Max(sample.UpstreamConnections ?? 0, guarded ? sample.GuardConnections ?? sample.GuardSockets ?? 0 : sample.HostileOpen));
        plot.Axes.SetLimitsY(0, Math.Max(cap * 1.5, top * 1.15));

        // The guarded lines run along the top and the bottom, the unguarded one diagonally upwards.
        plot.ShowLegend(guarded ? Alignment.MiddleRight : Alignment.UpperLeft);
    }

    private static void DrawMemory(Plot plot, RunResult? run, double budgetMebibytes, bool guarded)
    {
        plot.Title(guarded ? "Guarded: resident memory" : "Unguarded: resident memory");
        plot.YLabel("MiB");
        if (run is null || run.Samples.Count == 0)
        {
            NoData(plot);
            return;
        }

        Color upstreamColor = guarded ? GuardedColor : UnguardedColor;
        Line(plot, run.Samples, sample => Mebibytes(sample.UpstreamResidentBytes), upstreamColor, "upstream resident (VmRSS)", KillPoint(run, Mebibytes(run.Upstream.ResidentBytesAtKill)));
        Line(plot, run.Samples, sample => Mebibytes(sample.UpstreamManagedBytes), upstreamColor, "upstream managed heap", pattern: LinePattern.Dotted);
        if (guarded)
        {
            Line(plot, run.Samples, sample => Mebibytes(sample.GuardResidentBytes), GuardColor, "guard resident (VmRSS)");
        }

        HorizontalLimit(plot, budgetMebibytes, string.Create(CultureInfo.InvariantCulture, $"upstream budget ({budgetMebibytes:0} MiB)"));
        MarkHostileStart(plot, run);
        MarkKill(plot, run);
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static void DrawSuccess(Plot plot, RunResult? run, bool guarded)
    {
        plot.Title(guarded ? "Guarded: healthy client success per second" : "Unguarded: healthy client success per second");
        plot.YLabel("% of requests that succeeded");
        if (run is null || run.Samples.Count == 0)
        {
            NoData(plot);
            return;
        }

        Line(plot, run.Samples, SuccessPercent, guarded ? GuardedColor : UnguardedColor, "success rate");
        MarkHostileStart(plot, run);
        MarkKill(plot, run);
        plot.ShowLegend(Alignment.LowerLeft);
    }

    private static double? SuccessPercent(Sample sample)
    {
        long total = sample.HealthySucceeded + sample.HealthyFailed;
        return total == 0 ? null : 100.0 * sample.HealthySucceeded / total;
    }

    // killPoint, when given, is what the upstream reported at its budget kill. It becomes the line's
    // last point, because the last one-second sample comes before the kill.
    private static void Line(
        Plot plot,
        IReadOnlyList<Sample> samples,
        Func<Sample, double?> select,
        Color color,
        string legend,
        (double Seconds, double Value)? killPoint = null,
        LinePattern? pattern = null)
    {
        List<double> xs = [.. samples.Where(sample => select(sample) is not null).Select(sample => sample.Seconds)];
        List<double> ys = [.. samples.Select(select).Where(value => value is not null).Select(value => value!.Value)];
        if (killPoint is not null && (xs.Count == 0 || killPoint.Value.Seconds > xs[^1]))
        {
            xs.Add(killPoint.Value.Seconds);
            ys.Add(killPoint.Value.Value);
        }

        if (xs.Count == 0)
        {
            return;
        }

        var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), color);
        line.LineWidth = 2;
        line.LegendText = legend;
        line.LinePattern = pattern ?? LinePattern.Solid;
    }

    private static void HorizontalLimit(Plot plot, double y, string legend)
    {
        var line = plot.Add.HorizontalLine(y, 1.5f, LimitColor, LinePattern.Dashed);
        line.LegendText = legend;
    }

    private static void MarkHostileStart(Plot plot, RunResult run)
    {
        var line = plot.Add.VerticalLine(run.HostileStartSeconds, 1, Color.FromHex("#999999"), LinePattern.Dotted);
        line.LegendText = "misbehaving clients start";
    }

    private static void MarkKill(Plot plot, RunResult run)
    {
        if (!run.Upstream.KilledByBudget || run.Upstream.ExitedAtSeconds is null)
        {
            return;
        }

        var line = plot.Add.VerticalLine(run.Upstream.ExitedAtSeconds.Value, 2, UnguardedColor, LinePattern.Dashed);
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"upstream OOM-killed ({run.Upstream.ExitedAtSeconds:0.0} s)");
    }

    private static (double Seconds, double Value)? KillPoint(RunResult run, double? value) =>
        run.Upstream.KilledByBudget && run.Upstream.ExitedAtSeconds is not null && value is not null
            ? (run.Upstream.ExitedAtSeconds.Value, value.Value)
            : null;

    private static void NoData(Plot plot) => plot.Add.Text("no data: this run did not take place", 0, 0);

    private static double MaxValue(IReadOnlyList<Sample> samples, Func<Sample, double> select) =>
        samples.Count == 0 ? 0 : samples.Max(select);

    private static double MaxResidentMebibytes(LabResult result) =>
        new[] { result.Unguarded, result.Guarded }
            .Where(run => run is not null)
            .SelectMany(run => run!.Samples)
            .Select(sample => Math.Max(sample.UpstreamResidentBytes ?? 0, sample.GuardResidentBytes ?? 0) / MebibyteDivisor)
            .DefaultIfEmpty(0)
            .Max();

    private static double? Mebibytes(long? bytes) => bytes is null ? null : bytes.Value / MebibyteDivisor;
}
