namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>Creates the behaviour of each <see cref="ClientKind"/> with the parameters the scenarios document.</summary>
internal static class HostileBehaviorFactory
{
    /// <summary>The body size that slow uploads announce; the guard configuration allows bodies up to twice this.</summary>
    public const long SlowBodyBytes = 512 * 1024;

    public static IHostileBehavior Create(ClientKind kind) => kind switch
    {
        ClientKind.NoPool => new RequestThenHoldBehavior("/api/orders"),
        ClientKind.IdleHolder => new RequestThenHoldBehavior("/api/ping"),
        ClientKind.Slowloris => new SlowlorisBehavior(TimeSpan.FromSeconds(3)),
        ClientKind.SlowBody => new SlowBodyBehavior(SlowBodyBytes, bytesPerTick: 10, TimeSpan.FromSeconds(1)),
        ClientKind.SlowReader => new SlowReaderBehavior(8L * 1024 * 1024, bytesPerTick: 64, TimeSpan.FromSeconds(1)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown client kind."),
    };
}
