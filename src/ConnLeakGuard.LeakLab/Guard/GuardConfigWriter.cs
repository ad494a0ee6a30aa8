using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnLeakGuard.LeakLab.Cli;
using ConnLeakGuard.LeakLab.Clients;

namespace ConnLeakGuard.LeakLab.Guard;

/// <summary>
/// Writes the guard configuration file for a guarded run. The guard loads it with <c>--config</c>
/// in place of its shipped appsettings.json, so every section is written out in full.
/// </summary>
internal static class GuardConfigWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Builds the configuration JSON for <paramref name="endpoints"/> and <paramref name="limits"/>.</summary>
    public static string Create(GuardEndpoints endpoints, GuardLimits limits)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(limits);

        string grace = UnitParser.FormatDuration(limits.MinDataRateGracePeriod);
        var inbound = new JsonObject
        {
            ["Urls"] = Url(endpoints.Inbound),
            ["Protocols"] = "Http1",
            ["RequestHeadersTimeout"] = UnitParser.FormatDuration(limits.RequestHeadersTimeout),
            ["RequestBodyTimeout"] = "10s",
            ["MinRequestBodyDataRate"] = "240B",
            ["MinRequestBodyDataRateGracePeriod"] = grace,
            ["ResponseTimeout"] = "10s",
            ["MinResponseDataRate"] = "240B",
            ["MinResponseDataRateGracePeriod"] = grace,
            ["KeepAliveTimeout"] = UnitParser.FormatDuration(limits.KeepAliveTimeout),
            ["MaxConnectionAge"] = "30s",
            ["MaxConnectionAgeJitter"] = "10%",
            ["MaxConnectionAgeGracePeriod"] = "5s",
            ["MaxRequestsPerConnection"] = 1000,
            ["MaxRequestLineSize"] = "8KiB",
            ["MaxRequestHeaderSize"] = "8KiB",
            ["MaxRequestHeadersTotalSize"] = "32KiB",
            ["MaxRequestHeaderCount"] = 100,

            // Twice the slow uploads' announced body, so the guard has to catch them by rate, not by size.
            ["MaxRequestBodySize"] = string.Create(CultureInfo.InvariantCulture, $"{2 * HostileBehaviorFactory.SlowBodyBytes / 1024}KiB"),
            ["MaxConcurrentConnections"] = 4000,
            ["MaxConnectionsPerClientIp"] = 1000,
            ["Http2"] = new JsonObject
            {
                ["MaxStreamsPerConnection"] = 100,
                ["KeepAlivePingDelay"] = "30s",
                ["KeepAlivePingTimeout"] = "20s",
            },
        };

        var outbound = new JsonObject
        {
            ["MaxConnectionsPerHost"] = limits.MaxConnectionsPerHost,
            ["PooledConnectionIdleTimeout"] = "2s",
            ["PooledConnectionLifetime"] = "1m",
            ["ConnectTimeout"] = "2s",
            ["ResponseHeadersTimeout"] = "5s",
            ["ActivityTimeout"] = "5s",
            ["MaxPendingRequests"] = 200,
            ["QueueTimeout"] = "2s",
        };

        var root = new JsonObject
        {
            ["ConnLeakGuard"] = new JsonObject
            {
                ["Inbound"] = inbound,
                ["Outbound"] = outbound,
                ["Admin"] = new JsonObject { ["Urls"] = Url(endpoints.Admin) },
                ["Shutdown"] = new JsonObject { ["DrainDelay"] = "1s", ["DrainTimeout"] = "2s" },
            },
            ["ReverseProxy"] = new JsonObject
            {
                ["Routes"] = new JsonObject
                {
                    ["app"] = new JsonObject
                    {
                        ["ClusterId"] = "app",
                        ["Match"] = new JsonObject { ["Path"] = "{**catch-all}" },
                    },
                },
                ["Clusters"] = new JsonObject
                {
                    ["app"] = new JsonObject
                    {
                        ["Destinations"] = new JsonObject
                        {
                            ["app"] = new JsonObject { ["Address"] = Url(endpoints.Upstream) },
                        },
                    },
                },
            },
            ["Serilog"] = new JsonObject
            {
                ["MinimumLevel"] = new JsonObject { ["Default"] = "Warning" },
            },
        };

        return root.ToJsonString(Indented);
    }

    private static string Url(System.Net.IPEndPoint endpoint) =>
        string.Create(CultureInfo.InvariantCulture, $"http://{endpoint}");
}
