namespace ConnLeakGuard.Tests.Telemetry;

public sealed class StopLogTests
{
    [Fact]
    public async Task Sigterm_LogsStoppingThenStopped()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);

        var exitCode = await guard.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        var stopping = Assert.Single(guard.GetLogEvents("GuardStopping"));
        var stopped = Assert.Single(guard.GetLogEvents("GuardStopped"));
        Assert.True(stopping.GetProperty("UptimeSeconds").GetDouble() >= 0);
        Assert.True(stopped.GetProperty("UptimeSeconds").GetDouble() >= stopping.GetProperty("UptimeSeconds").GetDouble());
    }
}
