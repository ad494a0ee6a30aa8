using System.Globalization;
using System.Reflection;
using ConnLeakGuard.Inbound;
using Yarp.ReverseProxy.Configuration;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// <c>--check-config [FILE]</c>: validates the configuration as the guard would at start-up, prints the
/// effective limits and warnings, and exits 0 when valid or 2 when not. Meant for CI on a ConfigMap.
/// </summary>
internal static class ConfigCheckCommand
{
    /// <summary>Runs the check and returns the exit code.</summary>
    public static async Task<int> RunAsync(GuardCommandLine commandLine, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var path = GuardConfigurationSources.ResolvePath(commandLine);
        Microsoft.Extensions.Configuration.IConfigurationRoot configuration;
        try
        {
            configuration = GuardConfigurationSources.BuildStandalone(commandLine);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException)
        {
            await error.WriteLineAsync($"Invalid configuration: {path}: {ex.InnerException?.Message ?? ex.Message}");
            return ExitCodes.InvalidConfiguration;
        }

        using (configuration as IDisposable)
        {
            var options = GuardOptionsLoader.Load(configuration, out var problems);
            var proxySection = GuardOptionsLoader.GetProxySection(configuration);
            var proxyProblems = await ProxyConfigValidation.ValidateAsync(proxySection);

            await output.WriteLineAsync($"Configuration: {path}");
            await output.WriteLineAsync();
            await WriteLimitsAsync(output, options);
            await WriteProxyAsync(output, proxySection);

            foreach (var key in options.DisabledLimits)
            {
                await output.WriteLineAsync($"Warning: {key} is off: connections are not bounded by it");
            }

            var all = problems.Concat(proxyProblems).ToList();
            foreach (var problem in all)
            {
                await error.WriteLineAsync($"Invalid configuration: {problem}");
            }

            await output.WriteLineAsync(all.Count == 0 ? "Configuration is valid." : $"Configuration is invalid: {all.Count} problem(s).");
            return all.Count == 0 ? ExitCodes.Success : ExitCodes.InvalidConfiguration;
        }
    }

    private static async Task WriteLimitsAsync(TextWriter output, GuardOptions options)
    {
        var rows = GuardOptionsBinder.EnumerateSettings(options)
            .Select(setting => (setting.Key, Value: FormatSetting(setting.Property, setting.Owner), Range: DescribeRange(setting.Property)))
            .ToList();

        var keyWidth = rows.Max(r => r.Key.Length);
        var valueWidth = Math.Max(5, rows.Max(r => r.Value.Length));
        await output.WriteLineAsync($"{"Setting".PadRight(keyWidth)}  {"Value".PadRight(valueWidth)}  Allowed");
        foreach (var (key, value, range) in rows)
        {
            await output.WriteLineAsync($"{key.PadRight(keyWidth)}  {value.PadRight(valueWidth)}  {range}");
        }

        await output.WriteLineAsync();
    }

    private static async Task WriteProxyAsync(TextWriter output, Microsoft.Extensions.Configuration.IConfiguration proxySection)
    {
        var config = ProxyConfigValidation.LoadProxyConfig(proxySection, [], out var services);
        await using (services)
        {
            if (config is null)
            {
                return;
            }

            foreach (var route in config.Routes)
            {
                var limits = RouteLimits.Parse(route, []);
                var timeout = limits.ResponseTimeout is { } t ? DurationParser.Format(t) : "default";
                var rate = !limits.HasMinResponseDataRate ? "default" : limits.MinResponseDataRate is { } r ? $"{ByteSizeParser.Format(r)}/s" : "off";
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Route {route.RouteId}: path {route.Match.Path ?? "(any)"} -> cluster {route.ClusterId}; ResponseTimeout {timeout}; MinResponseDataRate {rate}"));
            }

            foreach (var cluster in config.Clusters)
            {
                var destinations = string.Join(", ", (cluster.Destinations ?? new Dictionary<string, DestinationConfig>()).Select(d => $"{d.Key}={d.Value.Address}"));
                await output.WriteLineAsync($"Cluster {cluster.ClusterId}: {destinations}");
            }

            await output.WriteLineAsync();
        }
    }

    // An unset text setting is "(none)"; an unset limit is "off".
    private static string FormatSetting(PropertyInfo property, object owner)
    {
        var value = property.GetValue(owner);
        return value is null && property.PropertyType == typeof(string) ? "(none)" : GuardOptionsBinder.FormatValue(value);
    }

    private static string DescribeRange(PropertyInfo property)
    {
        var setting = property.GetCustomAttribute<SettingAttribute>();
        if (setting is null)
        {
            return property.PropertyType.IsEnum ? string.Join(" | ", Enum.GetNames(property.PropertyType)) : string.Empty;
        }

        var range = $"{setting.Min} to {setting.Max}";
        return setting.AllowOff ? range + ", or off" : range;
    }
}
