using ConnLeakGuard.LeakLab.Cli;
using Xunit;

namespace ConnLeakGuard.LeakLab.Tests;

public sealed class UnitParserTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("00:00:30", 30_000)]
    public void ParseDuration_AcceptsGuardNotation(string text, double expectedMilliseconds)
    {
        Assert.True(UnitParser.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(expectedMilliseconds, duration.TotalMilliseconds);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("")]
    [InlineData("-1s")]
    [InlineData("fast")]
    [InlineData("10mm")]
    public void ParseDuration_RejectsBareOrInvalid(string text)
    {
        Assert.False(UnitParser.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("256MiB", 256L * 1024 * 1024)]
    [InlineData("64KiB", 64L * 1024)]
    [InlineData("240B", 240L)]
    [InlineData("4096", 4096L)]
    [InlineData("1GiB", 1024L * 1024 * 1024)]
    public void ParseSize_AcceptsBinaryUnits(string text, long expected)
    {
        Assert.True(UnitParser.TryParseSize(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("MiB")]
    [InlineData("-5KiB")]
    [InlineData("lots")]
    public void ParseSize_RejectsInvalid(string text)
    {
        Assert.False(UnitParser.TryParseSize(text, out _));
    }

    [Theory]
    [InlineData(2_000, "2s")]
    [InlineData(500, "500ms")]
    [InlineData(60_000, "60s")]
    public void FormatDuration_RoundTrips(double milliseconds, string expected)
    {
        string text = UnitParser.FormatDuration(TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(expected, text);
        Assert.True(UnitParser.TryParseDuration(text, out TimeSpan parsed));
        Assert.Equal(milliseconds, parsed.TotalMilliseconds);
    }
}
