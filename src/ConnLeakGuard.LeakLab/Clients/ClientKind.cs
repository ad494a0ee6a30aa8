namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>The kinds of misbehaving client that a scenario mixes.</summary>
internal enum ClientKind
{
    /// <summary>Opens a new connection for every request and never closes it: no pool, no idle timeout.</summary>
    NoPool,

    /// <summary>Sends one keep-alive request, then holds the connection idle; reconnects when closed.</summary>
    IdleHolder,

    /// <summary>Sends request headers one line every few seconds and never finishes them.</summary>
    Slowloris,

    /// <summary>Sends complete headers for a large body, then trickles the body far below any sane rate.</summary>
    SlowBody,

    /// <summary>Requests a large response and reads it a few bytes per second through a tiny receive window.</summary>
    SlowReader,
}
