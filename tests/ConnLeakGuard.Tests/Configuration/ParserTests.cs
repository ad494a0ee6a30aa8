using ConnLeakGuard.Configuration;

namespace ConnLeakGuard.Tests.Configuration;

public sealed class ParserTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("00:00:30", 30_000)]
    [InlineData("1d", 86_400_000)]
    public void Duration_ParsesGoAndTimeSpanForms(string text, double expectedMilliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var value, out var error), error);
        Assert.Equal(expectedMilliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("100", "'100s'")]
    [InlineData("30x", "unknown duration unit")]
    [InlineData("s", "not a valid duration")]
    [InlineData("", "required")]
    public void Duration_RejectsWithHint(string text, string expectedHint)
    {
        Assert.False(DurationParser.TryParse(text, out _, out var error));
        Assert.Contains(expectedHint, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8192", 8192)]
    [InlineData("32KiB", 32 * 1024)]
    [InlineData("1MiB", 1024 * 1024)]
    [InlineData("10KB", 10_000)]
    [InlineData("240B", 240)]
    public void ByteSize_ParsesUnits(string text, long expected)
    {
        Assert.True(ByteSizeParser.TryParse(text, out var value, out var error), error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("-1KiB")]
    [InlineData("12QB")]
    public void ByteSize_RejectsInvalid(string text)
    {
        Assert.False(ByteSizeParser.TryParse(text, out _, out _));
    }

    [Theory]
    [InlineData(30_000, "30s")]
    [InlineData(500, "500ms")]
    [InlineData(600_000, "10m")]
    public void Duration_FormatsRoundTrip(double milliseconds, string expected)
    {
        Assert.Equal(expected, DurationParser.Format(TimeSpan.FromMilliseconds(milliseconds)));
    }
}
