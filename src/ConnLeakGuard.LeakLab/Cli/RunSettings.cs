using System.ComponentModel;
using Spectre.Console.Cli;

namespace ConnLeakGuard.LeakLab.Cli;

/// <summary>Options of LeakLab's default command, which runs one scenario unguarded and then guarded.</summary>
internal sealed class RunSettings : CommandSettings
{
    [CommandArgument(0, "[scenario]")]
    [Description("Scenario to run: incident (default), slowloris, slow-body, slow-read, no-pool-client or idle-flood.")]
    public string Scenario { get; init; } = Scenarios.ScenarioCatalog.DefaultName;

    [CommandOption("--mode <MODE>")]
    [Description("Runs to carry out: both (default), unguarded or guarded.")]
    [DefaultValue("both")]
    public string Mode { get; init; } = "both";

    [CommandOption("--duration <DURATION>")]
    [Description("Length of each run, e.g. 45s. The unguarded run ends earlier once the upstream has died (see --after-kill).")]
    [DefaultValue("45s")]
    public string Duration { get; init; } = "45s";

    [CommandOption("--warmup <DURATION>")]
    [Description("Time the healthy client runs alone before the misbehaving clients start, e.g. 3s.")]
    [DefaultValue("3s")]
    public string Warmup { get; init; } = "3s";

    [CommandOption("--after-kill <DURATION>")]
    [Description("Time a run goes on after the upstream died, so the chart shows the outage, e.g. 5s.")]
    [DefaultValue("5s")]
    public string AfterKill { get; init; } = "5s";

    [CommandOption("--upstream-budget <SIZE>")]
    [Description("The upstream's memory budget (resident set size); crossing it kills it with exit code 137, e.g. 256MiB.")]
    [DefaultValue("256MiB")]
    public string UpstreamBudget { get; init; } = "256MiB";

    [CommandOption("--upstream-buffer <SIZE>")]
    [Description("Read buffer the upstream allocates per connection and keeps until the client closes it, e.g. 64KiB.")]
    [DefaultValue("64KiB")]
    public string UpstreamBuffer { get; init; } = "64KiB";

    [CommandOption("--healthy-rate <PER_SECOND>")]
    [Description("Requests per second of the healthy client (pooled HttpClient, fixed schedule).")]
    [DefaultValue(20.0)]
    public double HealthyRate { get; init; } = 20;

    [CommandOption("--healthy-timeout <DURATION>")]
    [Description("Time after which a healthy request counts as failed, e.g. 5s.")]
    [DefaultValue("5s")]
    public string HealthyTimeout { get; init; } = "5s";

    [CommandOption("--scale <FACTOR>")]
    [Description("Multiplies the connection-opening rate of every misbehaving client in the scenario.")]
    [DefaultValue(1.0)]
    public double Scale { get; init; } = 1;

    [CommandOption("--rate <KIND=PER_SECOND>")]
    [Description("New connections per second for one client kind (no-pool, idle, slowloris, slow-body, slow-read); adds the kind when the scenario lacks it. Repeatable.")]
    public string[] Rates { get; init; } = [];

    [CommandOption("--max-open <KIND=COUNT>")]
    [Description("Most connections one client kind keeps open at once. Repeatable.")]
    public string[] MaxOpen { get; init; } = [];

    [CommandOption("--guard-per-host-cap <COUNT>")]
    [Description("The guard's Outbound:MaxConnectionsPerHost: connections it may open to the upstream at once.")]
    [DefaultValue(16)]
    public int GuardPerHostCap { get; init; } = 16;

    [CommandOption("--guard-headers-timeout <DURATION>")]
    [Description("The guard's Inbound:RequestHeadersTimeout, e.g. 2s.")]
    [DefaultValue("2s")]
    public string GuardHeadersTimeout { get; init; } = "2s";

    [CommandOption("--guard-keep-alive <DURATION>")]
    [Description("The guard's Inbound:KeepAliveTimeout, e.g. 2s. The healthy client's pool retires idle connections after 1 s, so keep this above 1s.")]
    [DefaultValue("2s")]
    public string GuardKeepAlive { get; init; } = "2s";

    [CommandOption("--guard-grace <DURATION>")]
    [Description("The guard's grace period before its minimum request-body and response data rates (240 B/s) apply, e.g. 2s.")]
    [DefaultValue("2s")]
    public string GuardGrace { get; init; } = "2s";

    [CommandOption("--guard-memory-limit <SIZE>")]
    [Description("Highest resident memory the guard may reach in the guarded run for it to pass, e.g. 256MiB.")]
    [DefaultValue("256MiB")]
    public string GuardMemoryLimit { get; init; } = "256MiB";

    [CommandOption("--flat-tolerance <SIZE>")]
    [Description("How far the upstream's resident memory may rise above its warm-up level in the guarded run and still count as flat, e.g. 32MiB.")]
    [DefaultValue("32MiB")]
    public string FlatTolerance { get; init; } = "32MiB";

    [CommandOption("--min-success <PERCENT>")]
    [Description("Lowest success rate, in percent, of the healthy client in the guarded run for it to pass.")]
    [DefaultValue(99.9)]
    public double MinSuccess { get; init; } = 99.9;

    [CommandOption("--port-base <PORT>")]
    [Description("First of four consecutive loopback ports: unguarded upstream, guarded upstream, guard inbound, guard admin.")]
    [DefaultValue(20100)]
    public int PortBase { get; init; } = 20100;

    [CommandOption("--output <DIRECTORY>")]
    [Description("Folder for result.json, the chart, the guard configuration and the logs. Default: artifacts/leaklab/SCENARIO-TIMESTAMP in the repository.")]
    public string? Output { get; init; }

    [CommandOption("--guard <DLL>")]
    [Description("Path of a built ConnLeakGuard.dll to run. Default: build src/ConnLeakGuard in Release and run that.")]
    public string? Guard { get; init; }

    [CommandOption("--no-build")]
    [Description("Run the existing Release build of the guard without building it first.")]
    public bool NoBuild { get; init; }
}
