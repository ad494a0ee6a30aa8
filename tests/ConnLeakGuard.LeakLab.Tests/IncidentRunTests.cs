using System.Text.Json;
using Xunit;

namespace ConnLeakGuard.LeakLab.Tests;

/// <summary>
/// End-to-end: a short incident run, once straight to the leaky upstream and once through the
/// guard. Every condition that LeakLab promises is asserted on its own from the JSON result.
/// </summary>
public sealed class IncidentRunTests : IClassFixture<LeakLabRunFixture>
{
    private readonly LeakLabRunFixture _run;

    public IncidentRunTests(LeakLabRunFixture run)
    {
        _run = run;
    }

    private JsonElement Unguarded => _run.Result.GetProperty("unguarded");

    private JsonElement Guarded => _run.Result.GetProperty("guarded");

    [Fact]
    public void LeakLab_ExitsWithZero()
    {
        Assert.True(_run.ExitCode == 0, $"LeakLab exited with {_run.ExitCode}. Its output:{Environment.NewLine}{_run.Output}");
    }

    [Fact]
    public void Unguarded_UpstreamKilledByBudget()
    {
        JsonElement upstream = Unguarded.GetProperty("upstream");

        Assert.True(upstream.GetProperty("killedByBudget").GetBoolean());
        Assert.Equal(137, upstream.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public void Unguarded_UpstreamMemoryReachesBudget()
    {
        long peak = Unguarded.GetProperty("upstream").GetProperty("peakResidentBytes").GetInt64();

        Assert.True(peak > LeakLabRunFixture.UpstreamBudgetBytes, $"peak resident {peak} B, budget {LeakLabRunFixture.UpstreamBudgetBytes} B");
    }

    [Fact]
    public void Unguarded_UpstreamConnectionsGrowPastCap()
    {
        int peak = Unguarded.GetProperty("upstream").GetProperty("peakConnections").GetInt32();

        Assert.True(peak > 10 * LeakLabRunFixture.PerHostCap, $"peak {peak} connections");
    }

    [Fact]
    public void Guarded_GuardRunsToTheEnd()
    {
        Assert.Equal(JsonValueKind.Null, Guarded.GetProperty("error").ValueKind);
        Assert.False(Guarded.GetProperty("guard").GetProperty("exitedEarly").GetBoolean());
    }

    [Fact]
    public void Guarded_UpstreamSurvives()
    {
        JsonElement upstream = Guarded.GetProperty("upstream");

        Assert.False(upstream.GetProperty("killedByBudget").GetBoolean());
        Assert.Equal(JsonValueKind.Null, upstream.GetProperty("exitCode").ValueKind);
    }

    [Fact]
    public void Guarded_UpstreamConnectionsWithinCap()
    {
        int peak = Guarded.GetProperty("upstream").GetProperty("peakConnections").GetInt32();

        Assert.InRange(peak, 1, LeakLabRunFixture.PerHostCap);
    }

    [Fact]
    public void Guarded_EverySampleWithinCap()
    {
        JsonElement[] samples = [.. Guarded.GetProperty("samples").EnumerateArray()];

        Assert.NotEmpty(samples);
        Assert.All(samples, sample => Assert.InRange(sample.GetProperty("upstreamConnections").GetInt32(), 0, LeakLabRunFixture.PerHostCap));
    }

    [Fact]
    public void Guarded_UpstreamMemoryStaysFlat()
    {
        JsonElement upstream = Guarded.GetProperty("upstream");
        long baseline = upstream.GetProperty("baselineResidentBytes").GetInt64();
        long peak = upstream.GetProperty("peakResidentBytes").GetInt64();

        Assert.True(peak - baseline <= LeakLabRunFixture.FlatToleranceBytes, $"resident {baseline} B -> {peak} B");
    }

    [Fact]
    public void Guarded_HealthyClientSucceeds()
    {
        JsonElement healthy = Guarded.GetProperty("healthy");
        long completed = healthy.GetProperty("completed").GetInt64();
        double successRate = healthy.GetProperty("successRatePercent").GetDouble();

        Assert.True(completed >= 100, $"only {completed} healthy requests completed");
        Assert.True(successRate >= LeakLabRunFixture.MinSuccessPercent, $"success rate {successRate} %, failures {healthy.GetProperty("failureReasons")}");
    }

    [Fact]
    public void Guarded_GuardMemoryBounded()
    {
        long peak = Guarded.GetProperty("guard").GetProperty("peakResidentBytes").GetInt64();

        Assert.True(peak <= LeakLabRunFixture.GuardMemoryLimitBytes, $"guard peak resident {peak} B");
    }

    [Fact]
    public void Guarded_MisbehavingClientsWereCut()
    {
        long closedByServer = Guarded.GetProperty("clients").EnumerateArray().Sum(client => client.GetProperty("closedByServer").GetInt64());

        Assert.True(closedByServer > 0, "the guard closed none of the misbehaving clients' connections");
    }

    [Fact]
    public void Output_ChartIsPng()
    {
        Assert.True(File.Exists(_run.ChartPath), $"{_run.ChartPath} is missing");

        byte[] header = File.ReadAllBytes(_run.ChartPath)[..8];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, header);
    }
}
