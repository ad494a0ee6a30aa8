using System.Globalization;
using Xunit.Abstractions;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// Reads from the guard's <c>OverloadLevelRose</c> and <c>OverloadLevelFell</c> lines the time spans in which
/// one signal's level was Critical.
/// </summary>
/// <remarks>
/// At Critical the guard closes new connections at once by design, and from High on every response carries
/// <c>Connection: close</c>, so a keep-alive client fails while the level is Critical. Whether a flood
/// reaches Critical depends on how fast the machine runs the shedding, so the flood tests hold the healthy
/// client to its success ratio outside these windows and require every window to close.
/// </remarks>
internal static class CriticalWindows
{
    private const string Critical = "critical";

    // Widens each window for the gap between the guard's level line and the client's clock reading.
    private static readonly TimeSpan s_margin = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Asserts that every Critical window of <paramref name="signal"/> closed and that the healthy client got at
    /// least 100 responses and 99% successes outside the windows.
    /// </summary>
    public static void AssertHealthyServedOutside(GuardProcess guard, string signal, HealthyClient healthy, ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(healthy);
        ArgumentNullException.ThrowIfNull(output);

        var windows = Read(guard, signal);
        var (succeeded, failed) = healthy.CountOutside(windows, s_margin);
        var seconds = windows.Where(w => w.To != DateTime.MaxValue).Sum(w => (w.To - w.From).TotalSeconds);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{signal} level critical {windows.Count} times for {seconds:0.0} s; healthy client outside: {succeeded} succeeded, {failed} failed"));

        Assert.True(windows.All(w => w.To != DateTime.MaxValue), $"the {signal} level was still critical at the end\n{guard.LinesContaining("Overload")}");
        Assert.True(succeeded >= 100, $"the healthy client got only {succeeded + failed} responses outside the critical level");
        var ratio = (double)succeeded / (succeeded + failed);
        Assert.True(
            ratio >= 0.99,
            string.Create(CultureInfo.InvariantCulture, $"healthy success outside the critical level {ratio:P2} ({failed} of {succeeded + failed} failed):\n{healthy.DescribeFailures()}"));
    }

    /// <summary>Returns the windows in time order; a window still open at the end ends at <see cref="DateTime.MaxValue"/>.</summary>
    public static IReadOnlyList<(DateTime From, DateTime To)> Read(GuardProcess guard, string signal)
    {
        ArgumentNullException.ThrowIfNull(guard);

        var changes = guard.GetLogEvents("OverloadLevelRose")
            .Concat(guard.GetLogEvents("OverloadLevelFell"))
            .Where(e => e.GetProperty("Signal").GetString() == signal)
            .Select(e => (At: e.GetProperty("@t").GetDateTime().ToUniversalTime(), From: e.GetProperty("From").GetString(), To: e.GetProperty("To").GetString()))
            .OrderBy(change => change.At);

        var windows = new List<(DateTime From, DateTime To)>();
        DateTime? start = null;
        foreach (var change in changes)
        {
            if (change.To == Critical)
            {
                start = change.At;
            }
            else if (change.From == Critical && start is { } from)
            {
                windows.Add((from, change.At));
                start = null;
            }
        }

        if (start is { } open)
        {
            windows.Add((open, DateTime.MaxValue));
        }

        return windows;
    }
}
