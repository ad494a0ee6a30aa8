namespace ConnLeakGuard.Tests.Configuration;

public sealed class CheckConfigTests
{
    [Fact]
    public async Task ValidFile_PrintsEffectiveLimits()
    {
        var json = GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000"), """{ "ConnLeakGuard.ResponseTimeout": "off" }""")
            .Replace("\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\" }", "\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\", \"KeepAliveTimeout\": \"30s\", \"MaxRequestBodySize\": \"off\" }", StringComparison.Ordinal);
        await using var config = await TempConfig.CreateAsync(json);

        var (exitCode, output, error) = await GuardBinary.RunAsync("--check-config", config.Path);

        Assert.Equal(0, exitCode);
        Assert.Equal(string.Empty, error);
        Assert.Matches(@"ConnLeakGuard:Inbound:KeepAliveTimeout\s+30s\s+100ms to 1h", output);
        Assert.Matches(@"ConnLeakGuard:Inbound:RequestHeadersTimeout\s+10s", output);
        Assert.Matches(@"ConnLeakGuard:Outbound:MaxConnectionsPerHost\s+100\s+1 to 100000", output);
        Assert.Contains("Warning: ConnLeakGuard:Inbound:MaxRequestBodySize is off", output, StringComparison.Ordinal);
        Assert.Contains("Route app: path {**catch-all} -> cluster app; ResponseTimeout off", output, StringComparison.Ordinal);
        Assert.Contains("Cluster app: app=http://127.0.0.1:5000", output, StringComparison.Ordinal);
        Assert.Contains("Configuration is valid.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidFile_ExitsTwoWithProblems()
    {
        var json = GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000"))
            .Replace("\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\" }", "\"Inbound\": { \"Urls\": \"http://127.0.0.1:0\", \"KeepAliveTimeout\": \"75\" }", StringComparison.Ordinal);
        await using var config = await TempConfig.CreateAsync(json);

        var (exitCode, output, error) = await GuardBinary.RunAsync("--check-config", config.Path);

        Assert.Equal(2, exitCode);
        Assert.Contains("ConnLeakGuard:Inbound:KeepAliveTimeout = '75': a duration needs a unit", error, StringComparison.Ordinal);
        Assert.Contains("Configuration is invalid: 1 problem(s).", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidRouteMetadata_IsReported()
    {
        var json = GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000"), """{ "ConnLeakGuard.ResponseTimeout": "60" }""");
        await using var config = await TempConfig.CreateAsync(json);

        var (exitCode, _, error) = await GuardBinary.RunAsync("--check-config", config.Path);

        Assert.Equal(2, exitCode);
        Assert.Contains("ReverseProxy:Routes:app:Metadata:ConnLeakGuard.ResponseTimeout = '60'", error, StringComparison.Ordinal);
    }
}
