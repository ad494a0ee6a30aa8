using Microsoft.Extensions.Configuration;

namespace ConnLeakGuard.Configuration;

/// <summary>Builds a validated <see cref="GuardOptions"/> from configuration; used at start-up, on reload and by <c>--check-config</c>.</summary>
internal static class GuardOptionsLoader
{
    /// <summary>Binds and checks the <c>ConnLeakGuard</c> section; <paramref name="problems"/> is empty when the options are valid.</summary>
    public static GuardOptions Load(IConfiguration configuration, out IReadOnlyList<ConfigurationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var options = new GuardOptions();
        GuardOptionsBinder.Bind(configuration.GetSection(GuardOptions.SectionName), options);

        var all = new List<ConfigurationProblem>(options.Problems);
        all.AddRange(GuardOptionsValidator.CheckCrossSettingRules(options));
        problems = all;
        return options;
    }

    /// <summary>Returns the section that YARP loads routes and clusters from, honouring <c>--upstream</c>.</summary>
    public static IConfiguration GetProxySection(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        if (UpstreamOverride.Build(configuration) is { } single)
        {
            return new ConfigurationBuilder().AddInMemoryCollection(single).Build().GetSection("ReverseProxy");
        }

        return configuration.GetSection("ReverseProxy");
    }
}
