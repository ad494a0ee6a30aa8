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

    /// <summary>
    /// Log events that may wait for a background writer. Serilog's queue and the queue of per-request
    /// completion lines each have this capacity. Events beyond it are dropped and counted
    /// (<c>connleakguard_log_events_dropped_total</c>) rather than slowing requests down. Default 10,000,
    /// about one second of request lines at 10,000 requests per second and at most about 10 MiB. nginx
    /// buffers access log lines the same way (<c>access_log ... buffer=</c>), and Envoy writes its access
    /// logs from a background flush thread.
    /// </summary>
    [Setting(Min = "100", Max = "1000000")]
    public int LogQueueCapacity { get; set; } = 10_000;

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
