namespace ConnLeakGuard.Inbound;

/// <summary>What a client connection or its current request is doing, as shown in the connection table.</summary>
internal enum InboundPhase
{
    /// <summary>Connected, request line and headers not yet complete.</summary>
    AwaitingHeaders,

    /// <summary>Headers read; the request body is being read and forwarded.</summary>
    ReadingBody,

    /// <summary>The request is forwarded and the upstream has not answered yet.</summary>
    WaitingOnUpstream,

    /// <summary>The response is being written to the client.</summary>
    WritingResponse,

    /// <summary>Between requests on a keep-alive connection.</summary>
    IdleKeepAlive,

    /// <summary>Switched to another protocol (WebSocket, CONNECT); HTTP limits no longer apply.</summary>
    Upgraded,
}
