using ConnLeakGuard.Configuration;

namespace ConnLeakGuard;

/// <summary>
/// The guard's own command-line switches. Everything else passes through to ASP.NET Core configuration,
/// so <c>--ConnLeakGuard:Inbound:KeepAliveTimeout=5s</c> overrides one setting as usual.
/// </summary>
internal sealed class GuardCommandLine
{
    /// <summary>Help text printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: ConnLeakGuard [options] [--Section:Key=value ...]

        Options:
          --config FILE          Load FILE instead of the appsettings.json next to the binary.
          --listen URL           Proxy listener, for example http://127.0.0.1:8080 (sets ConnLeakGuard:Inbound:Urls).
          --upstream URL         The one upstream for every path, for example http://127.0.0.1:5000
                                 (replaces ReverseProxy routes and clusters with a single catch-all route).
          --check-config [FILE]  Validate the configuration, print the effective limits and exit:
                                 0 when valid, 2 when not.
          --help                 Print this text.

        Any configuration key can be overridden as --Section:Key=value, for example
        --ConnLeakGuard:Inbound:KeepAliveTimeout=30s.
        """;

    private GuardCommandLine(string? configFile, bool checkConfig, bool help, IReadOnlyList<string> configurationArgs, string? error)
    {
        ConfigFile = configFile;
        CheckConfig = checkConfig;
        Help = help;
        ConfigurationArgs = configurationArgs;
        Error = error;
    }

    /// <summary>The configuration file from <c>--config</c> or <c>--check-config FILE</c>; null for the default.</summary>
    public string? ConfigFile { get; }

    /// <summary>Whether <c>--check-config</c> was given.</summary>
    public bool CheckConfig { get; }

    /// <summary>Whether <c>--help</c> was given.</summary>
    public bool Help { get; }

    /// <summary>Arguments for the ASP.NET Core command-line configuration provider, with the short switches translated.</summary>
    public IReadOnlyList<string> ConfigurationArgs { get; }

    /// <summary>A usage error, or null.</summary>
    public string? Error { get; }

    /// <summary>Parses <paramref name="args"/>.</summary>
    public static GuardCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);

        string? configFile = null;
        var checkConfig = false;
        var help = false;
        var passThrough = new List<string>();

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var hasValue = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);

            switch (arg)
            {
                case "--help" or "-h":
                    help = true;
                    break;

                case "--check-config":
                    checkConfig = true;
                    if (hasValue)
                    {
                        configFile = args[++i];
                    }

                    break;

                case "--config" or "--listen" or "--upstream" when !hasValue:
                    return Failed($"{arg} needs a value; see --help");

                case "--config":
                    configFile = args[++i];
                    break;

                case "--listen":
                    passThrough.Add($"--ConnLeakGuard:Inbound:Urls={args[++i]}");
                    break;

                case "--upstream":
                    passThrough.Add($"--{UpstreamOverride.SwitchKey}={args[++i]}");
                    break;

                default:
                    passThrough.Add(arg);
                    break;
            }
        }

        if (configFile is not null && !File.Exists(configFile))
        {
            return Failed($"Configuration file not found: {Path.GetFullPath(configFile)}");
        }

        return new GuardCommandLine(configFile, checkConfig, help, passThrough, null);

        static GuardCommandLine Failed(string error) => new(null, false, false, [], error);
    }
}
