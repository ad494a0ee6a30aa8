using System.Net;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Source addresses for LeakLab's clients. Linux routes all of 127.0.0.0/8 to the loopback
/// interface, so each kind of client can bind its own address and a guard's per-client-IP limit
/// sees them as different clients, as it would see different pods.
/// </summary>
internal static class LoopbackAddresses
{
    public static IPAddress Server { get; } = IPAddress.Loopback;

    public static IPAddress HealthyClient { get; } = IPAddress.Parse("127.0.0.10");

    public static IPAddress For(ClientKind kind) => kind switch
    {
        ClientKind.NoPool => IPAddress.Parse("127.0.0.11"),
        ClientKind.IdleHolder => IPAddress.Parse("127.0.0.12"),
        ClientKind.Slowloris => IPAddress.Parse("127.0.0.13"),
        ClientKind.SlowBody => IPAddress.Parse("127.0.0.14"),
        ClientKind.SlowReader => IPAddress.Parse("127.0.0.15"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown client kind."),
    };
}
