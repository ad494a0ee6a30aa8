using System.Globalization;
using ConnLeakGuard.LeakLab.Clients;
using ConnLeakGuard.LeakLab.Guard;
using ConnLeakGuard.LeakLab.Lab;
using ConnLeakGuard.LeakLab.Scenarios;

namespace ConnLeakGuard.LeakLab.Cli;

/// <summary>Turns <see cref="RunSettings"/> into <see cref="LabOptions"/>, or into an error message naming the invalid option.</summary>
internal static class LabOptionsBuilder
{
    /// <summary>The loopback port range that LeakLab may use.</summary>
    public const int MinPort = 20000;

    public const int MaxPort = 20999;

    public static bool TryBuild(RunSettings settings, DateTimeOffset now, out LabOptions? options, out string error)
    {
        ArgumentNullException.ThrowIfNull(settings);
        options = null;

        Scenario? scenario = ScenarioCatalog.Find(settings.Scenario);
        if (scenario is null)
        {
            error = $"Scenario '{settings.Scenario}' is not known. Choose one of: {string.Join(", ", ScenarioCatalog.All.Select(s => s.Name))}.";
            return false;
        }

        List<RunMode>? modes = settings.Mode.ToLowerInvariant() switch
        {
            "both" => [RunMode.Unguarded, RunMode.Guarded],
            "unguarded" => [RunMode.Unguarded],
            "guarded" => [RunMode.Guarded],
            _ => null,
        };
        if (modes is null)
        {
            error = $"--mode '{settings.Mode}' is invalid: use both, unguarded or guarded.";
            return false;
        }

        if (!TryDuration("--duration", settings.Duration, out TimeSpan duration, out error)
            || !TryDuration("--warmup", settings.Warmup, out TimeSpan warmup, out error)
            || !TryDuration("--after-kill", settings.AfterKill, out TimeSpan afterKill, out error)
            || !TryDuration("--healthy-timeout", settings.HealthyTimeout, out TimeSpan healthyTimeout, out error)
            || !TryDuration("--guard-headers-timeout", settings.GuardHeadersTimeout, out TimeSpan headersTimeout, out error)
            || !TryDuration("--guard-keep-alive", settings.GuardKeepAlive, out TimeSpan keepAlive, out error)
            || !TryDuration("--guard-grace", settings.GuardGrace, out TimeSpan grace, out error)
            || !TrySize("--upstream-budget", settings.UpstreamBudget, out long budget, out error)
            || !TrySize("--upstream-buffer", settings.UpstreamBuffer, out long buffer, out error)
            || !TrySize("--guard-memory-limit", settings.GuardMemoryLimit, out long guardMemoryLimit, out error)
            || !TrySize("--flat-tolerance", settings.FlatTolerance, out long flatTolerance, out error))
        {
            return false;
        }

        if (duration <= warmup)
        {
            error = $"--duration '{settings.Duration}' must be longer than --warmup '{settings.Warmup}'.";
            return false;
        }

        if (buffer is < 1024 or > 16 * 1024 * 1024)
        {
            error = $"--upstream-buffer '{settings.UpstreamBuffer}' is invalid: give a size from 1KiB to 16MiB.";
            return false;
        }

        if (settings.HealthyRate is <= 0 or > 1000)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"--healthy-rate {settings.HealthyRate} is invalid: give 0 < rate <= 1000 requests per second.");
            return false;
        }

        if (settings.Scale is <= 0 or > 20)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"--scale {settings.Scale} is invalid: give a factor above 0 and at most 20.");
            return false;
        }

        if (settings.GuardPerHostCap is < 1 or > 10000)
        {
            error = $"--guard-per-host-cap {settings.GuardPerHostCap} is invalid: give 1 to 10000 connections.";
            return false;
        }

        if (settings.MinSuccess is < 0 or > 100)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"--min-success {settings.MinSuccess} is invalid: give a percentage from 0 to 100.");
            return false;
        }

        if (settings.PortBase < MinPort || settings.PortBase + LabOptions.PortCount - 1 > MaxPort)
        {
            error = $"--port-base {settings.PortBase} is invalid: LeakLab uses {LabOptions.PortCount} ports from it, all within {MinPort}-{MaxPort}.";
            return false;
        }

        if (!TryResolveLoads(scenario, settings, out List<ClientLoad> loads, out error))
        {
            return false;
        }

        string output = settings.Output ?? DefaultOutputDirectory(scenario.Name, now);
        options = new LabOptions(
            scenario,
            loads,
            modes,
            duration,
            warmup,
            afterKill,
            budget,
            buffer,
            settings.HealthyRate,
            healthyTimeout,
            new GuardLimits(settings.GuardPerHostCap, headersTimeout, keepAlive, grace),
            guardMemoryLimit,
            flatTolerance,
            settings.MinSuccess,
            settings.PortBase,
            Path.GetFullPath(output),
            settings.Guard is null ? null : Path.GetFullPath(settings.Guard),
            BuildGuard: settings.Guard is null && !settings.NoBuild);
        error = string.Empty;
        return true;
    }

    private static bool TryResolveLoads(Scenario scenario, RunSettings settings, out List<ClientLoad> loads, out string error)
    {
        loads = [.. scenario.Loads.Select(load => load with { OpenPerSecond = load.OpenPerSecond * settings.Scale })];

        foreach (string rate in settings.Rates)
        {
            if (!TryParseKindValue("--rate", rate, out ClientKind kind, out double perSecond, out error) || perSecond <= 0)
            {
                error = error.Length > 0 ? error : $"--rate '{rate}' is invalid: the rate must be above 0.";
                return false;
            }

            int index = loads.FindIndex(load => load.Kind == kind);
            if (index < 0)
            {
                loads.Add(new ClientLoad(kind, perSecond, 6000));
            }
            else
            {
                loads[index] = loads[index] with { OpenPerSecond = perSecond };
            }
        }

        foreach (string maxOpen in settings.MaxOpen)
        {
            if (!TryParseKindValue("--max-open", maxOpen, out ClientKind kind, out double count, out error) || count < 1 || count > 15000)
            {
                error = error.Length > 0 ? error : $"--max-open '{maxOpen}' is invalid: give 1 to 15000 connections.";
                return false;
            }

            int index = loads.FindIndex(load => load.Kind == kind);
            if (index < 0)
            {
                error = $"--max-open '{maxOpen}': scenario '{scenario.Name}' has no {ClientKindNames.ToName(kind)} client; add one with --rate.";
                return false;
            }

            loads[index] = loads[index] with { MaxOpen = (int)count };
        }

        error = string.Empty;
        return true;
    }

    private static bool TryParseKindValue(string option, string text, out ClientKind kind, out double value, out string error)
    {
        kind = default;
        value = 0;
        string[] parts = text.Split('=', 2);
        if (parts.Length != 2 || !ClientKindNames.TryParse(parts[0].Trim(), out kind))
        {
            error = $"{option} '{text}' is invalid: write KIND=VALUE with KIND one of {string.Join(", ", ClientKindNames.All)}.";
            return false;
        }

        if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            error = $"{option} '{text}' is invalid: '{parts[1]}' is not a number.";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool TryDuration(string option, string text, out TimeSpan value, out string error)
    {
        if (UnitParser.TryParseDuration(text, out value))
        {
            error = string.Empty;
            return true;
        }

        error = $"{option} '{text}' is invalid: give a duration such as 500ms, 30s, 2m or 00:00:30.";
        return false;
    }

    private static bool TrySize(string option, string text, out long value, out string error)
    {
        if (UnitParser.TryParseSize(text, out value) && value > 0)
        {
            error = string.Empty;
            return true;
        }

        error = $"{option} '{text}' is invalid: give a size such as 256MiB, 64KiB or a number of bytes.";
        return false;
    }

    private static string DefaultOutputDirectory(string scenario, DateTimeOffset now)
    {
        string root = GuardLocator.FindRepositoryRoot() ?? Environment.CurrentDirectory;
        string folder = string.Create(CultureInfo.InvariantCulture, $"{scenario}-{now:yyyyMMdd-HHmmss}");
        return Path.Combine(root, "artifacts", "leaklab", folder);
    }
}
