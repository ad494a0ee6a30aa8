namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>Maps <see cref="ClientKind"/> values to the names used on the command line, in tables and in the JSON result.</summary>
internal static class ClientKindNames
{
    private static readonly Dictionary<ClientKind, string> Names = new()
    {
        [ClientKind.NoPool] = "no-pool",
        [ClientKind.IdleHolder] = "idle",
        [ClientKind.Slowloris] = "slowloris",
        [ClientKind.SlowBody] = "slow-body",
        [ClientKind.SlowReader] = "slow-read",
    };

    public static IReadOnlyCollection<string> All => Names.Values;

    public static string ToName(ClientKind kind) => Names[kind];

    public static bool TryParse(string name, out ClientKind kind)
    {
        foreach ((ClientKind candidate, string candidateName) in Names)
        {
            if (string.Equals(candidateName, name, StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
