using System.Globalization;
using System.Runtime.InteropServices;
using ConnLeakGuard.LeakLab.Guard;
using ConnLeakGuard.LeakLab.Lab;
using ConnLeakGuard.LeakLab.Output;
using ConnLeakGuard.LeakLab.Results;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConnLeakGuard.LeakLab.Cli;

/// <summary>
/// Runs one scenario straight against the leaky upstream and then through the guard, shows it live,
/// and writes the table, the JSON result and the chart. Returns 0 when the guarded run passes every
/// check and 1 otherwise.
/// </summary>
internal sealed class RunCommand : AsyncCommand<RunSettings>
{
    public override ValidationResult Validate(CommandContext context, RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return LabOptionsBuilder.TryBuild(settings, DateTimeOffset.Now, out _, out string error)
            ? ValidationResult.Success()
            : ValidationResult.Error(error);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);

        DateTimeOffset startedAt = DateTimeOffset.Now;
        if (!LabOptionsBuilder.TryBuild(settings, startedAt, out LabOptions? built, out string error) || built is null)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(error)}[/]");
            return 1;
        }

        LabOptions options = built;
        Directory.CreateDirectory(options.OutputDirectory);
        AnsiConsole.MarkupLine($"[bold]LeakLab[/] scenario [bold]{Markup.Escape(options.Scenario.Name)}[/]: {Markup.Escape(options.Scenario.Description)}");

        (string? guardDll, string? guardConfigPath, string? guardError) = await PrepareGuardAsync(options, cancellationToken);

        var view = new LiveView(options);
        var runs = new Dictionary<RunMode, RunResult>();
        bool interactive = AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;
        if (interactive)
        {
            await AnsiConsole.Live(view.Render()).StartAsync(async live =>
            {
                await RunAllAsync(options, guardDll, guardConfigPath, guardError, runs, update =>
                {
                    view.Update(update);
                    live.UpdateTarget(view.Render());
                }, cancellationToken);
            });
        }
        else
        {
            await RunAllAsync(options, guardDll, guardConfigPath, guardError, runs, update =>
            {
                if (update.Sample.Seconds < 1.5 || Math.Round(update.Sample.Seconds) % 5 == 0 || !update.Status.StartsWith("under", StringComparison.Ordinal))
                {
                    Console.WriteLine(LiveView.FormatLine(update));
                }
            }, cancellationToken);
        }

        // The report is written even after Ctrl+C, so that a cancelled run still leaves its partial results.
        LabResult result = await ReportAsync(options, startedAt, guardDll, guardConfigPath, runs, CancellationToken.None);
        return result.Passed ? 0 : 1;
    }

    private static async Task<(string? Dll, string? ConfigPath, string? Error)> PrepareGuardAsync(LabOptions options, CancellationToken cancellationToken)
    {
        if (!options.Modes.Contains(RunMode.Guarded))
        {
            return (null, null, null);
        }

        string config = GuardConfigWriter.Create(ScenarioRun.GuardEndpointsFor(options), options.GuardLimits);
        string configPath = Path.Combine(options.OutputDirectory, "guard-config.json");
        await File.WriteAllTextAsync(configPath, config, cancellationToken);
        AnsiConsole.Write(new Panel(new Text(config)).Header($"guard configuration: {configPath}").Border(BoxBorder.Rounded));

        try
        {
            string dll = await LocateGuardAsync(options, cancellationToken);
            AnsiConsole.MarkupLine($"guard: dotnet [bold]{Markup.Escape(dll)}[/] --config {Markup.Escape(configPath)}");
            return (dll, configPath, null);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FileNotFoundException or OperationCanceledException)
        {
            AnsiConsole.MarkupLine($"[red]The guarded run cannot start:[/] {Markup.Escape(exception.Message)}");
            return (null, configPath, exception.Message);
        }
    }

    private static async Task<string> LocateGuardAsync(LabOptions options, CancellationToken cancellationToken)
    {
        if (options.GuardDll is not null)
        {
            return File.Exists(options.GuardDll)
                ? options.GuardDll
                : throw new FileNotFoundException($"--guard {options.GuardDll} does not exist; build the guard or point --guard at ConnLeakGuard.dll.", options.GuardDll);
        }

        string root = GuardLocator.FindRepositoryRoot()
            ?? throw new InvalidOperationException("ConnLeakGuard.sln was not found above the working directory; run LeakLab inside the repository or pass --guard.");
        if (options.BuildGuard)
        {
            AnsiConsole.MarkupLine("building the guard: dotnet build src/ConnLeakGuard -c Release");
            return await GuardLocator.BuildReleaseAsync(root, cancellationToken);
        }

        string dll = Path.Combine(root, "src", "ConnLeakGuard", "bin", "Release", "net10.0", "ConnLeakGuard.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} does not exist; run without --no-build to build it.", dll);
    }

    private static async Task RunAllAsync(
        LabOptions options,
        string? guardDll,
        string? guardConfigPath,
        string? guardError,
        Dictionary<RunMode, RunResult> runs,
        Action<LiveUpdate> onUpdate,
        CancellationToken cancellationToken)
    {
        foreach (RunMode mode in options.Modes)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                runs[mode] = ScenarioRun.NotRun(options, mode, string.Empty, "Cancelled before it started.");
                continue;
            }

            if (mode == RunMode.Guarded && guardError is not null)
            {
                runs[mode] = ScenarioRun.NotRun(options, mode, string.Empty, guardError);
                continue;
            }

            var run = new ScenarioRun(options, mode, guardDll, guardConfigPath, onUpdate);
            try
            {
                runs[mode] = await run.RunAsync(cancellationToken);
            }
            catch (InvalidOperationException exception)
            {
                // The upstream did not start, most often because another process uses its port.
                runs[mode] = ScenarioRun.NotRun(options, mode, string.Empty, exception.Message);
            }
        }
    }

    private static async Task<LabResult> ReportAsync(
        LabOptions options,
        DateTimeOffset startedAt,
        string? guardDll,
        string? guardConfigPath,
        Dictionary<RunMode, RunResult> runs,
        CancellationToken cancellationToken)
    {
        RunResult? unguarded = runs.GetValueOrDefault(RunMode.Unguarded);
        RunResult? guarded = runs.GetValueOrDefault(RunMode.Guarded);
        IReadOnlyList<CheckResult> checks = CheckEvaluator.Evaluate(options, unguarded, guarded);
        bool passed = guarded is not null && checks.Where(check => check.Run == CheckEvaluator.GuardedRun).All(check => check.Passed);

        var result = new LabResult(
            options.Scenario.Name,
            options.Scenario.Description,
            startedAt,
            string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}"),
            ToSettings(options),
            guardDll,
            guardConfigPath,
            unguarded,
            guarded,
            checks,
            passed,
            options.OutputDirectory,
            Path.Combine(options.OutputDirectory, ChartRenderer.FileName));

        foreach (RunResult run in runs.Values.Where(run => run.Error is not null))
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(run.Mode)} run:[/] {Markup.Escape(run.Error!)}");
        }

        AnsiConsole.Write(SummaryTable.Create(result));
        AnsiConsole.Write(SummaryTable.CreateChecks(result));

        ChartRenderer.Render(result, options.OutputDirectory);
        await ResultFileWriter.WriteAsync(result, options.OutputDirectory, cancellationToken);

        string verdict = passed ? "[green]PASS[/]: the guarded run met every condition." : "[red]FAIL[/]: the guarded run missed a condition (see checks).";
        AnsiConsole.MarkupLine(verdict);
        AnsiConsole.MarkupLine($"output folder: [bold]{Markup.Escape(options.OutputDirectory)}[/] ({ResultFileWriter.FileName}, {ChartRenderer.FileName}, guard-config.json, logs)");
        return result;
    }

    private static LabSettings ToSettings(LabOptions options) =>
        new(
            options.Duration.TotalSeconds,
            options.Warmup.TotalSeconds,
            options.AfterKill.TotalSeconds,
            options.UpstreamBudgetBytes,
            options.UpstreamBufferBytes,
            options.HealthyRequestsPerSecond,
            options.HealthyTimeout.TotalSeconds,
            options.GuardLimits.MaxConnectionsPerHost,
            options.GuardLimits.RequestHeadersTimeout.TotalSeconds,
            options.GuardLimits.KeepAliveTimeout.TotalSeconds,
            options.GuardLimits.MinDataRateGracePeriod.TotalSeconds,
            options.GuardMemoryLimitBytes,
            options.FlatToleranceBytes,
            options.MinSuccessPercent,
            options.PortBase);
}
