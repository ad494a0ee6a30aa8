namespace ConnLeakGuard.Configuration;

/// <summary>The guard's configuration: section <c>ConnLeakGuard</c> of appsettings.json.</summary>
internal sealed class GuardOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "ConnLeakGuard";

    /// <summary>
    /// The single upstream set by <c>--upstream URL</c>; when set, it replaces the <c>ReverseProxy</c> section
    /// with one catch-all route. Default none.
    /// </summary>
    public string? Upstream { get; set; }

    /// <summary>Log format on standard output: compact JSON for log collectors, or text for local runs. Default JSON.</summary>
    public LogFormat LogFormat { get; set; } = LogFormat.Json;

    /// <summary>Limits on client connections.</summary>
    public InboundOptions Inbound { get; set; } = new();

    /// <summary>Defaults for upstream connections.</summary>
    public OutboundOptions Outbound { get; set; } = new();

    /// <summary>The admin listener.</summary>
    public AdminOptions Admin { get; set; } = new();

    /// <summary>Graceful shutdown timings.</summary>
    public ShutdownOptions Shutdown { get; set; } = new();

    /// <summary>Thresholds of the connection table's leak report.</summary>
    public LeakDetectionOptions LeakDetection { get; set; } = new();

    /// <summary>Load shedding before the memory or file-descriptor limit is reached.</summary>
    public OverloadOptions Overload { get; set; } = new();

    /// <summary>Problems found while binding, reported by <see cref="GuardOptionsValidator"/>.</summary>
    internal List<ConfigurationProblem> Problems { get; } = [];

    /// <summary>Limits that the configuration switches off explicitly; logged as warnings at start-up.</summary>
    internal List<string> DisabledLimits { get; } = [];
}
