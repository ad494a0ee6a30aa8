namespace ConnLeakGuard.Admin;

/// <summary>
/// The state and timings of one open connection at one moment, computed without allocating, so the leak
/// monitor can measure every connection each sweep.
/// </summary>
/// <param name="State">A value of <see cref="Telemetry.ConnectionStates"/>.</param>
/// <param name="Age">Time since the connection opened.</param>
/// <param name="Idle">Time since the connection last made progress (see <see cref="ConnectionTable"/>).</param>
/// <param name="InState">Time since the connection entered <paramref name="State"/>.</param>
internal readonly record struct ConnectionMeasure(string State, TimeSpan Age, TimeSpan Idle, TimeSpan InState)
{
    /// <summary>Time in the current state without progress: the shorter of <see cref="Idle"/> and <see cref="InState"/>.</summary>
    public TimeSpan Stalled => Idle < InState ? Idle : InState;
}
