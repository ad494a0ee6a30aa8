using ConnLeakGuard.Inbound;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Label values of <c>state</c> on <c>connleakguard.connections.suspected_leaks</c> and in the connection
/// table. Inbound states follow <see cref="InboundPhase"/>; outbound connections are active or idle.
/// </summary>
internal static class ConnectionStates
{
    public const string AwaitingHeaders = "awaiting_headers";
    public const string ReadingBody = "reading_body";
    public const string WaitingOnUpstream = "waiting_on_upstream";
    public const string WritingResponse = "writing_response";
    public const string IdleKeepAlive = "idle_keep_alive";
    public const string Upgraded = "upgraded";
    public const string Active = "active";
    public const string Idle = "idle";

    /// <summary>The states of inbound connections, in the order a request passes through them.</summary>
    public static IReadOnlyList<string> Inbound { get; } =
        [AwaitingHeaders, ReadingBody, WaitingOnUpstream, WritingResponse, IdleKeepAlive, Upgraded];

    /// <summary>The states of outbound connections.</summary>
    public static IReadOnlyList<string> Outbound { get; } = [Active, Idle];

    /// <summary>Every (side, state) pair, inbound first; the index of a pair is stable for the process.</summary>
    public static IReadOnlyList<(string Side, string State)> All { get; } =
        [.. Inbound.Select(state => (ConnectionSides.Inbound, state)), .. Outbound.Select(state => (ConnectionSides.Outbound, state))];

    /// <summary>Returns the states of <paramref name="side"/>.</summary>
    public static IReadOnlyList<string> Of(string side) => side == ConnectionSides.Inbound ? Inbound : Outbound;

    /// <summary>Returns the index of (<paramref name="side"/>, <paramref name="state"/>) in <see cref="All"/>.</summary>
    public static int IndexOf(string side, string state)
    {
        for (var i = 0; i < All.Count; i++)
        {
            if (All[i].Side == side && All[i].State == state)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(state), state, $"not a state of {side} connections");
    }

    /// <summary>Returns the label value of an inbound phase.</summary>
    public static string FromPhase(InboundPhase phase) => phase switch
    {
        InboundPhase.AwaitingHeaders => AwaitingHeaders,
        InboundPhase.ReadingBody => ReadingBody,
        InboundPhase.WaitingOnUpstream => WaitingOnUpstream,
        InboundPhase.WritingResponse => WritingResponse,
        InboundPhase.IdleKeepAlive => IdleKeepAlive,
        InboundPhase.Upgraded => Upgraded,
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, "unknown inbound phase"),
    };
}
