using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Arranges the configuration sources: one watched JSON file (the shipped appsettings.json, or the file
/// named by <c>--config</c>), then environment variables, then the command line, each overriding the one before.
/// </summary>
internal static class GuardConfigurationSources
{
    /// <summary>File name of the shipped configuration, next to the binary.</summary>
    public const string DefaultFileName = "appsettings.json";

    /// <summary>How often the configuration file is compared for changes.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>Returns the absolute path of the configuration file that the guard loads.</summary>
    public static string ResolvePath(GuardCommandLine commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);

        return Path.GetFullPath(commandLine.ConfigFile ?? Path.Combine(AppContext.BaseDirectory, DefaultFileName));
    }

    /// <summary>Replaces the framework's JSON files with the watched guard file.</summary>
    public static void Apply(IConfigurationBuilder configuration, GuardCommandLine commandLine)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(commandLine);

        var sources = configuration.Sources;
        var firstJson = -1;
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is JsonConfigurationSource)
            {
                sources.RemoveAt(i);
                firstJson = i;
            }
        }

        sources.Insert(firstJson < 0 ? 0 : firstJson, new WatchedJsonConfigurationSource(ResolvePath(commandLine), PollInterval));
    }

    /// <summary>Builds a standalone configuration the way the guard does, for <c>--check-config</c>.</summary>
    public static IConfigurationRoot BuildStandalone(GuardCommandLine commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);

        return new ConfigurationBuilder()
            .Add(new WatchedJsonConfigurationSource(ResolvePath(commandLine), PollInterval))
            .AddEnvironmentVariables()
            .AddCommandLine([.. commandLine.ConfigurationArgs])
            .Build();
    }
}
