using ConnLeakGuard.LeakLab.Clients;

namespace ConnLeakGuard.LeakLab.Scenarios;

/// <summary>
/// The built-in scenarios. Each opens 100 new held connections per second in total. At about
/// 70 KiB of resident memory per held connection (64 KiB buffer included), that pushes the
/// unguarded upstream past a 256 MiB budget in about 30 seconds.
/// </summary>
internal static class ScenarioCatalog
{
    public const string DefaultName = "incident";

    // A pool that only stops growing when the process runs out of file descriptors is no pool:
    // this cap keeps LeakLab's own sockets well under the 20000 descriptor limit seen on CI machines.
    private const int Unbounded = 6000;

    public static IReadOnlyList<Scenario> All { get; } =
    [
        new(
            "incident",
            "The production incident: a client without a connection pool, idle keep-alive holders and a slowloris, all at once.",
            [
                new ClientLoad(ClientKind.NoPool, 50, Unbounded),
                new ClientLoad(ClientKind.IdleHolder, 25, 2500),
                new ClientLoad(ClientKind.Slowloris, 25, 2500),
            ]),
        new(
            "slowloris",
            "Header tricklers: each connection sends one header line every few seconds and never ends the request.",
            [new ClientLoad(ClientKind.Slowloris, 100, Unbounded)]),
        new(
            "slow-body",
            "Slow uploads: complete headers announce a 512 KiB body that then arrives at 10 bytes per second.",
            [new ClientLoad(ClientKind.SlowBody, 100, Unbounded)]),
        new(
            "slow-read",
            "Slow readers: each connection requests 8 MiB and reads 64 bytes per second through a 4 KiB receive buffer.",
            [new ClientLoad(ClientKind.SlowReader, 100, Unbounded)]),
        new(
            "no-pool-client",
            "A buggy client that opens a new connection for every request and never closes any of them.",
            [new ClientLoad(ClientKind.NoPool, 100, Unbounded)]),
        new(
            "idle-flood",
            "Idle keep-alive holders: one request per connection, then silence; every closed connection is reopened.",
            [new ClientLoad(ClientKind.IdleHolder, 100, Unbounded)]),
    ];

    public static Scenario? Find(string name) =>
        All.FirstOrDefault(scenario => string.Equals(scenario.Name, name, StringComparison.OrdinalIgnoreCase));
}
