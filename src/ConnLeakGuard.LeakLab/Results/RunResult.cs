using ConnLeakGuard.LeakLab.Clients;

namespace ConnLeakGuard.LeakLab.Results;

/// <summary>One run of a scenario, either straight to the upstream or through the guard.</summary>
/// <param name="Mode"><c>unguarded</c> or <c>guarded</c>.</param>
/// <param name="Target">The endpoint the clients connected to.</param>
/// <param name="Error">Why the run could not be carried out (for example, the guard did not start), or null.</param>
/// <param name="DurationSeconds">Time from the clients' start to their stop.</param>
/// <param name="HostileStartSeconds">When the misbehaving clients started; before that only the healthy client runs.</param>
/// <param name="Upstream">The upstream's figures.</param>
/// <param name="Guard">The guard's figures, or null in the unguarded run.</param>
/// <param name="Healthy">The healthy client's totals.</param>
/// <param name="Clients">What each kind of misbehaving client did.</param>
/// <param name="Samples">One reading per second.</param>
internal sealed record RunResult(
    string Mode,
    string Target,
    string? Error,
    double DurationSeconds,
    double HostileStartSeconds,
    UpstreamSummary Upstream,
    GuardSummary? Guard,
    HealthySummary Healthy,
    IReadOnlyList<ClientSummary> Clients,
    IReadOnlyList<Sample> Samples);
