namespace ConnLeakGuard.Outbound;

/// <summary>Label values of <c>kind</c> and <c>reason</c> on the outbound failure and queue counters.</summary>
internal static class UpstreamFailureKinds
{
    public const string QueueFull = "queue_full";
    public const string QueueTimeout = "queue_timeout";
    public const string ConnectTimeout = "connect_timeout";
    public const string ResponseTimeout = "response_timeout";
    public const string ActivityTimeout = "activity_timeout";
    public const string Refused = "refused";
    public const string Reset = "reset";
    public const string Other = "other";
}
