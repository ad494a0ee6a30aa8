using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Xunit;

namespace ConnLeakGuard.LeakLab.Tests;

/// <summary>
/// Runs a short <c>incident</c> scenario once, as a separate LeakLab process with the real guard
/// binary, and exposes its exit code and JSON result to the tests of one class.
/// </summary>
public sealed class LeakLabRunFixture : IAsyncLifetime
{
    /// <summary>The settings of the short run, which the tests compare the result against.</summary>
    public const int PerHostCap = 16;
    public const long UpstreamBudgetBytes = 96L * 1024 * 1024;
    public const long GuardMemoryLimitBytes = 256L * 1024 * 1024;
    public const long FlatToleranceBytes = 32L * 1024 * 1024;
    public const double MinSuccessPercent = 99.9;

    // Ports 20600-20603: apart from the default run's 20100-20103, so both can run at once.
    private const int PortBase = 20600;
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(3);

    private readonly string _outputDirectory = Path.Combine(Path.GetTempPath(), "leaklab-test-" + Guid.NewGuid().ToString("N"));
    private JsonDocument? _document;

    public int ExitCode { get; private set; }

    public string Output { get; private set; } = string.Empty;

    public string ChartPath => Path.Combine(_outputDirectory, "chart.png");

    public JsonElement Result => _document?.RootElement
        ?? throw new InvalidOperationException($"LeakLab wrote no result.json. Its output:{Environment.NewLine}{Output}");

    public async Task InitializeAsync()
    {
        string leakLab = Metadata("LeakLabDll");
        string guard = Metadata("GuardDll");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            leakLab, "incident",
            "--duration", "12s",
            "--warmup", "2s",
            "--after-kill", "2s",
            "--scale", "1.5",
            "--upstream-budget", "96MiB",
            "--guard-per-host-cap", PerHostCap.ToString(CultureInfo.InvariantCulture),
            "--guard-memory-limit", "256MiB",
            "--flat-tolerance", "32MiB",
            "--min-success", MinSuccessPercent.ToString(CultureInfo.InvariantCulture),
            "--port-base", PortBase.ToString(CultureInfo.InvariantCulture),
            "--guard", guard,
            "--output", _outputDirectory,
        ];
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet could not be started.");
        Task<string> standardOutput = process.StandardOutput.ReadToEndAsync();
        Task<string> standardError = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(ProcessTimeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        ExitCode = process.ExitCode;
        Output = await standardOutput + await standardError;

        string resultPath = Path.Combine(_outputDirectory, "result.json");
        if (File.Exists(resultPath))
        {
            _document = JsonDocument.Parse(await File.ReadAllTextAsync(resultPath));
        }
    }

    public Task DisposeAsync()
    {
        _document?.Dispose();
        if (Directory.Exists(_outputDirectory))
        {
            Directory.Delete(_outputDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static string Metadata(string key)
    {
        string? path = typeof(LeakLabRunFixture).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == key)?.Value;
        if (path is null || !File.Exists(path))
        {
            throw new FileNotFoundException($"{key} was not found at '{path}'; build the solution in the same configuration as the tests.", path);
        }

        return path;
    }
}
