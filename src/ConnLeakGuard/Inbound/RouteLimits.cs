using ConnLeakGuard.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Per-route relaxations of the response limits, for streaming routes (server-sent events, long polling,
/// downloads), read from route metadata:
/// <c>ReverseProxy:Routes:NAME:Metadata:ConnLeakGuard.ResponseTimeout</c> (a duration or "off") and
/// <c>ReverseProxy:Routes:NAME:Metadata:ConnLeakGuard.MinResponseDataRate</c> (a size per second or "off").
/// </summary>
internal sealed class RouteLimits
{
    /// <summary>Metadata key of the per-route response deadline.</summary>
    public const string ResponseTimeoutKey = "ConnLeakGuard.ResponseTimeout";

    /// <summary>Metadata key of the per-route minimum response rate.</summary>
    public const string MinResponseDataRateKey = "ConnLeakGuard.MinResponseDataRate";

    /// <summary>Limits of a route without overrides.</summary>
    public static readonly RouteLimits None = new(null, false, null);

    private RouteLimits(TimeSpan? responseTimeout, bool hasMinResponseDataRate, long? minResponseDataRate)
    {
        ResponseTimeout = responseTimeout;
        HasMinResponseDataRate = hasMinResponseDataRate;
        MinResponseDataRate = minResponseDataRate;
    }

    /// <summary>The route's response deadline, or null to use the guard-wide one; infinite when "off".</summary>
    public TimeSpan? ResponseTimeout { get; }

    /// <summary>Whether the route overrides the minimum response rate.</summary>
    public bool HasMinResponseDataRate { get; }

    /// <summary>The route's minimum response rate in bytes per second; null when "off".</summary>
    public long? MinResponseDataRate { get; }

    /// <summary>Reads the overrides of <paramref name="route"/>, collecting invalid values in <paramref name="problems"/>.</summary>
    public static RouteLimits Parse(RouteConfig route, ICollection<ConfigurationProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(problems);

        if (route.Metadata is null || route.Metadata.Count == 0)
        {
            return None;
        }

        TimeSpan? responseTimeout = null;
        if (route.Metadata.TryGetValue(ResponseTimeoutKey, out var timeoutText))
        {
            if (IsOff(timeoutText))
            {
                responseTimeout = Timeout.InfiniteTimeSpan;
            }
            else if (DurationParser.TryParse(timeoutText, out var parsed, out var error) && parsed > TimeSpan.Zero)
            {
                responseTimeout = parsed;
            }
            else
            {
                problems.Add(new ConfigurationProblem(MetadataKey(route, ResponseTimeoutKey), timeoutText, (error ?? "must be above zero") + "; allowed: a duration such as '10m', or 'off'"));
            }
        }

        var hasRate = route.Metadata.TryGetValue(MinResponseDataRateKey, out var rateText);
        long? rate = null;
        if (hasRate && !IsOff(rateText!))
        {
            if (ByteSizeParser.TryParse(rateText!, out var parsed, out var error) && parsed > 0)
            {
                rate = parsed;
            }
            else
            {
                problems.Add(new ConfigurationProblem(MetadataKey(route, MinResponseDataRateKey), rateText, (error ?? "must be above zero") + "; allowed: bytes per second such as '1KiB', or 'off'"));
            }
        }

        return responseTimeout is null && !hasRate ? None : new RouteLimits(responseTimeout, hasRate, rate);
    }

    private static bool IsOff(string text) => string.Equals(text.Trim(), GuardOptionsBinder.Off, StringComparison.OrdinalIgnoreCase);

    private static string MetadataKey(RouteConfig route, string key) => $"ReverseProxy:Routes:{route.RouteId}:Metadata:{key}";
}
