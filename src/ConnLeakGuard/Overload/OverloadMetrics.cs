using System.Diagnostics.Metrics;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Overload;

/// <summary>
/// The overload instruments of the guard's meter: the level per signal, the level changes, and the
/// connections shed per action.
/// </summary>
internal sealed class OverloadMetrics
{
    private readonly Counter<long> _transitions;
    private readonly Counter<long> _shed;
    private readonly int[] _levels = new int[Enum.GetValues<OverloadSignal>().Length];

    public OverloadMetrics(GuardMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);

        var meter = metrics.Meter;
        meter.CreateObservableGauge(
            "connleakguard.overload.level",
            ObserveLevels,
            unit: "{level}",
            description: "Overload level per signal: 0 normal, 1 elevated, 2 high, 3 critical.");

        _transitions = meter.CreateCounter<long>(
            "connleakguard.overload.transitions",
            unit: "{transition}",
            description: "Overload level changes, by signal and by the levels before and after.");

        _shed = meter.CreateCounter<long>(
            "connleakguard.overload.shed",
            unit: "{connection}",
            description: "Connections and requests shed because of overload, by action.");
    }

    /// <summary>Records the new level of <paramref name="signal"/> and counts the change from <paramref name="from"/>.</summary>
    public void LevelChanged(OverloadSignal signal, OverloadLevel from, OverloadLevel to)
    {
        Volatile.Write(ref _levels[(int)signal], (int)to);
        _transitions.Add(
            1,
            new KeyValuePair<string, object?>("signal", OverloadLabels.Of(signal)),
            new KeyValuePair<string, object?>("from", OverloadLabels.Of(from)),
            new KeyValuePair<string, object?>("to", OverloadLabels.Of(to)));
    }

    /// <summary>Counts <paramref name="count"/> connections or requests shed by <paramref name="action"/> (see <see cref="ShedActions"/>).</summary>
    public void Shed(string action, int count = 1) =>
        _shed.Add(count, new KeyValuePair<string, object?>("action", action));

    private IEnumerable<Measurement<int>> ObserveLevels()
    {
        foreach (var signal in Enum.GetValues<OverloadSignal>())
        {
            yield return new Measurement<int>(
                Volatile.Read(ref _levels[(int)signal]),
                new KeyValuePair<string, object?>("signal", OverloadLabels.Of(signal)));
        }
    }
}
