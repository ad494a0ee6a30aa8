using System.Text.RegularExpressions;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>Polls a guard's <c>/metrics</c> until a series reaches a value, for counters recorded asynchronously.</summary>
internal static partial class ScrapeWaiter
{
    /// <summary>
    /// Scrapes until the sum of <paramref name="name"/> over samples matching <paramref name="labels"/> is at
    /// least <paramref name="minimum"/> or <paramref name="timeout"/> passes, then returns the last scrape.
    /// </summary>
    public static async Task<PrometheusScrape> WaitForAsync(
        GuardProcess guard, string name, double minimum, TimeSpan timeout, params (string Key, string Value)[] labels)
    {
        var deadline = DateTime.UtcNow + timeout;
        var scrape = await guard.ScrapeAsync();
        while (scrape.Sum(name, labels) < minimum && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            scrape = await guard.ScrapeAsync();
        }

        return scrape;
    }

    /// <summary>
    /// Lists the <c>error_type</c> values of <c>kestrel_connection_duration_seconds_count</c> with their
    /// counts, so a failing assertion shows how Kestrel classified the closes.
    /// </summary>
    public static string DescribeKestrelErrorTypes(PrometheusScrape scrape)
    {
        ArgumentNullException.ThrowIfNull(scrape);

        var types = ErrorTypePattern().Matches(scrape.Text)
            .Select(match => match.Groups["type"].Value)
            .Distinct(StringComparer.Ordinal)
            .Select(type => $"{type}={scrape.Sum("kestrel_connection_duration_seconds_count", ("error_type", type))}");
        return "Kestrel error.type values seen: [" + string.Join(", ", types) + "]";
    }

    [GeneratedRegex("""kestrel_connection_duration_seconds_count\{[^}]*error_type="(?<type>[^"]+)""")]
    private static partial Regex ErrorTypePattern();
}
