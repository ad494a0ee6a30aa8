using ConnLeakGuard.Overload;

namespace ConnLeakGuard.Tests.Overload;

public sealed class OverloadLevelTrackerTests
{
    private const long Frequency = 1000;
    private const double Margin = 0.05;
    private static readonly OverloadThresholds s_thresholds = new(0.70, 0.85, 0.95);
    private static readonly TimeSpan s_hold = TimeSpan.FromSeconds(2);

    [Fact]
    public void Rise_IsImmediateAndMaySkipLevels()
    {
        var tracker = new OverloadLevelTracker();

        var changed = tracker.Update(0.96, s_thresholds, Margin, s_hold, now: 0, Frequency, out var previous);

        Assert.True(changed);
        Assert.Equal(OverloadLevel.Normal, previous);
        Assert.Equal(OverloadLevel.Critical, tracker.Level);
    }

    [Theory]
    [InlineData(0.69, 0)]
    [InlineData(0.70, 1)]
    [InlineData(0.85, 2)]
    [InlineData(0.9499, 2)]
    [InlineData(0.95, 3)]
    [InlineData(1.20, 3)]
    public void Rise_StopsAtHighestThresholdReached(double fraction, int expectedLevel)
    {
        var tracker = new OverloadLevelTracker();

        tracker.Update(fraction, s_thresholds, Margin, s_hold, now: 0, Frequency, out _);

        // The level is passed as a number because the enum is internal to the guard.
        Assert.Equal((OverloadLevel)expectedLevel, tracker.Level);
    }

    [Fact]
    public void SignalWithinMargin_KeepsLevel()
    {
        var tracker = new OverloadLevelTracker();
        tracker.Update(0.86, s_thresholds, Margin, s_hold, now: 0, Frequency, out _);

        // 0.81 is below the High threshold but not below 0.85 minus the 5-point margin.
        var changed = tracker.Update(0.81, s_thresholds, Margin, s_hold, now: 10_000, Frequency, out _);

        Assert.False(changed);
        Assert.Equal(OverloadLevel.High, tracker.Level);
    }

    [Fact]
    public void Drop_WaitsForHoldTime()
    {
        var tracker = new OverloadLevelTracker();
        tracker.Update(0.86, s_thresholds, Margin, s_hold, now: 0, Frequency, out _);

        var early = tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 1_000, Frequency, out _);
        var stillEarly = tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 2_999, Frequency, out _);
        var late = tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 3_000, Frequency, out var previous);

        Assert.False(early);
        Assert.False(stillEarly);
        Assert.True(late);
        Assert.Equal(OverloadLevel.High, previous);
        Assert.Equal(OverloadLevel.Normal, tracker.Level);
    }

    [Fact]
    public void Drop_GoesToHighestLevelSeenDuringHold()
    {
        var tracker = new OverloadLevelTracker();
        tracker.Update(0.96, s_thresholds, Margin, s_hold, now: 0, Frequency, out _);

        tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 1_000, Frequency, out _);
        tracker.Update(0.82, s_thresholds, Margin, s_hold, now: 2_000, Frequency, out _);
        var changed = tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 3_000, Frequency, out _);

        // 0.82 is within the margin of High during the hold, so the level stops at High.
        Assert.True(changed);
        Assert.Equal(OverloadLevel.High, tracker.Level);
    }

    [Fact]
    public void ReturnAboveRecoveryPoint_RestartsHold()
    {
        var tracker = new OverloadLevelTracker();
        tracker.Update(0.86, s_thresholds, Margin, s_hold, now: 0, Frequency, out _);

        tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 1_000, Frequency, out _);
        tracker.Update(0.84, s_thresholds, Margin, s_hold, now: 2_000, Frequency, out _);
        var afterRestart = tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 3_500, Frequency, out _);
        var afterFullHold = tracker.Update(0.50, s_thresholds, Margin, s_hold, now: 5_500, Frequency, out _);

        Assert.False(afterRestart);
        Assert.True(afterFullHold);
        Assert.Equal(OverloadLevel.Normal, tracker.Level);
    }

    [Fact]
    public void SignalHoveringAtThreshold_ChangesLevelOnce()
    {
        var tracker = new OverloadLevelTracker();
        var changes = 0;

        for (var i = 0; i < 100; i++)
        {
            var fraction = i % 2 == 0 ? 0.71 : 0.68;
            if (tracker.Update(fraction, s_thresholds, Margin, s_hold, now: i * 500, Frequency, out _))
            {
                changes++;
            }
        }

        Assert.Equal(1, changes);
        Assert.Equal(OverloadLevel.Elevated, tracker.Level);
    }
}
