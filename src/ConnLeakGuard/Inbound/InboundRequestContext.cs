namespace ConnLeakGuard.Inbound;

/// <summary>
/// The inbound request that the current async flow forwards, so the outbound handler can register the
/// upstream call's cancellation with the inbound deadlines. Set by <see cref="InboundRequestMiddleware"/>.
/// </summary>
internal static class InboundRequestContext
{
    private static readonly AsyncLocal<InboundRequest?> s_current = new();

    /// <summary>The request being forwarded on this flow, or null outside the proxy pipeline.</summary>
    public static InboundRequest? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }
}
