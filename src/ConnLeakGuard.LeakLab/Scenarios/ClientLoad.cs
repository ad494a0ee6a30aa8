using ConnLeakGuard.LeakLab.Clients;

namespace ConnLeakGuard.LeakLab.Scenarios;

/// <summary>
/// One kind of misbehaving client in a scenario: it opens up to <paramref name="OpenPerSecond"/> new
/// connections per second while fewer than <paramref name="MaxOpen"/> of its connections are open.
/// </summary>
internal sealed record ClientLoad(ClientKind Kind, double OpenPerSecond, int MaxOpen);
