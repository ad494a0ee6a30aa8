using ConnLeakGuard.Admin;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnLeakGuard.Tests.Telemetry;

public sealed class LivenessHeartbeatTests
{
    [Fact]
    public async Task Heartbeat_Fresh_IsHealthy()
    {
        var time = new ManualTimeProvider();
        var heartbeat = new LivenessHeartbeat(time, TimeSpan.FromSeconds(10));
        var check = new LivenessHealthCheck(heartbeat);

        time.Advance(TimeSpan.FromSeconds(9));
        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.True(heartbeat.IsAlive);
        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task Heartbeat_MissedBeats_IsUnhealthy()
    {
        var time = new ManualTimeProvider();
        var heartbeat = new LivenessHeartbeat(time, TimeSpan.FromSeconds(10));
        var check = new LivenessHealthCheck(heartbeat);

        time.Advance(TimeSpan.FromSeconds(10));
        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.False(heartbeat.IsAlive);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("thread pool", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_TimerFires_StaysAlive()
    {
        var time = new ManualTimeProvider();
        using var heartbeat = new LivenessHeartbeat(time, TimeSpan.FromSeconds(10));
        await heartbeat.StartAsync(CancellationToken.None);

        // Thirty seconds of beats: the stamp is never older than one period.
        for (var i = 0; i < 30; i++)
        {
            time.Advance(LivenessHeartbeat.Period);
        }

        Assert.True(heartbeat.IsAlive);
        Assert.True(heartbeat.Age <= LivenessHeartbeat.Period, $"age {heartbeat.Age} after regular beats");
    }

    [Fact]
    public async Task Heartbeat_StampRefreshed_RecoversAfterStall()
    {
        var time = new ManualTimeProvider();
        var heartbeat = new LivenessHeartbeat(time, TimeSpan.FromSeconds(10));

        time.Advance(TimeSpan.FromSeconds(15));
        Assert.False(heartbeat.IsAlive);

        heartbeat.Beat();
        var result = await new LivenessHealthCheck(heartbeat).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }
}
