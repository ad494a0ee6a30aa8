namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Label values of <c>side</c> on the connection instruments and in the connection table: <c>inbound</c> for
/// client connections to the proxy listener, <c>outbound</c> for the guard's connections to upstreams.
/// </summary>
internal static class ConnectionSides
{
    public const string Inbound = "inbound";
    public const string Outbound = "outbound";
}
