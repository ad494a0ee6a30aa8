namespace ConnLeakGuard.Tests.Configuration;

public sealed class StartupValidationTests
{
    private const int InvalidConfigurationExitCode = 2;

    public static TheoryData<string, string, string> InvalidValues => new()
    {
        { "ConnLeakGuard:Inbound:KeepAliveTimeout", "100", "a duration needs a unit: write '100s'" },
        { "ConnLeakGuard:Inbound:RequestHeadersTimeout", "50ms", "allowed range 100ms to 10m" },
        { "ConnLeakGuard:Inbound:MaxRequestHeadersTotalSize", "huge", "not a valid size" },
        { "ConnLeakGuard:Inbound:MaxRequestHeaderCount", "0", "allowed range 1 to 10000" },
        { "ConnLeakGuard:Inbound:RequestHeadersTimeout", "off", "cannot be switched off" },
        { "ConnLeakGuard:Inbound:Protocols", "Http3", "not one of: Http1, Http2, Http1AndHttp2" },
        { "ConnLeakGuard:Inbound:KeepAliveTimout", "5s", "unknown setting" },
        { "ConnLeakGuard:Inbound:Urls", "http://example:80x", "not a valid listener URL" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public async Task InvalidValue_StopsWithOneLine(string key, string value, string expectedMessage)
    {
        await using var config = await TempConfig.CreateAsync(GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000")));

        var (exitCode, _, error) = await GuardBinary.RunAsync("--config", config.Path, $"--{key}={value}");

        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InvalidConfigurationExitCode, exitCode);
        var line = Assert.Single(lines);
        Assert.Contains(key, line, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", line, StringComparison.Ordinal);
        Assert.Contains(expectedMessage, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralInvalidValues_GetOneLineEach()
    {
        await using var config = await TempConfig.CreateAsync(GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000")));

        var (exitCode, _, error) = await GuardBinary.RunAsync(
            "--config", config.Path,
            "--ConnLeakGuard:Inbound:KeepAliveTimeout=100",
            "--ConnLeakGuard:Outbound:ConnectTimeout=1d",
            "--ConnLeakGuard:Shutdown:DrainDelay=soon");

        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InvalidConfigurationExitCode, exitCode);
        Assert.Equal(3, lines.Length);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokenRoute_IsReportedWithoutStackTrace()
    {
        var json = GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000")).Replace("\"ClusterId\": \"app\"", "\"ClusterId\": \"missing\"", StringComparison.Ordinal);
        await using var config = await TempConfig.CreateAsync(json);

        var (exitCode, _, error) = await GuardBinary.RunAsync("--config", config.Path);

        Assert.Equal(InvalidConfigurationExitCode, exitCode);
        Assert.Contains("ReverseProxy", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingConfigFile_IsOneLine()
    {
        var (exitCode, _, error) = await GuardBinary.RunAsync("--config", "/nonexistent/appsettings.json");

        Assert.Equal(InvalidConfigurationExitCode, exitCode);
        Assert.Contains("Configuration file not found: /nonexistent/appsettings.json", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortInUse_ExitsWithCode3()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        await using var config = await TempConfig.CreateAsync(GuardProcess.BuildConfig(new Uri("http://127.0.0.1:5000")));

        var (exitCode, _, error) = await GuardBinary.RunAsync(
            "--config", config.Path, $"--ConnLeakGuard:Inbound:Urls=http://127.0.0.1:{port}");

        Assert.Equal(3, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Failed to start: ", line, StringComparison.Ordinal);
        Assert.Contains($"Failed to bind to address http://127.0.0.1:{port}", line, StringComparison.Ordinal);
    }
}
