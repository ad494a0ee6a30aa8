namespace ConnLeakGuard.LeakLab.Scenarios;

/// <summary>A named mix of misbehaving clients, with a one-line description of the failure it models.</summary>
internal sealed record Scenario(string Name, string Description, IReadOnlyList<ClientLoad> Loads);
