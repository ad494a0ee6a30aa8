using System.Text.Json.Serialization;
using ConnLeakGuard.Telemetry;

namespace ConnLeakGuard.Admin;

/// <summary>The body of <c>/debug/connections</c> and <c>/debug/leaks</c>: totals first, then the rows oldest first.</summary>
internal sealed class ConnectionReport
{
    /// <summary>Leak report only: the stalled threshold in force, in seconds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? StalledThresholdSeconds { get; init; }

    /// <summary>Leak report only: the age threshold in force, in seconds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? AgeThresholdSeconds { get; init; }

    /// <summary>
    /// Connections that match the filters, per side (<c>inbound</c>, <c>outbound</c>) and state, counted
    /// before <c>limit</c> cuts the list.
    /// </summary>
    public required Dictionary<string, ConnectionTotals> Totals { get; init; }

    /// <summary>Number of rows in <see cref="Connections"/>.</summary>
    public int Listed => Connections.Count;

    /// <summary>Whether <c>limit</c> left matching connections out of the list.</summary>
    public bool Truncated { get; init; }

    /// <summary>The matching connections, oldest first, at most <c>limit</c> of them.</summary>
    public required IReadOnlyList<ConnectionSnapshot> Connections { get; init; }

    /// <summary>Filters, sorts and counts <paramref name="rows"/> as <paramref name="query"/> specifies.</summary>
    public static ConnectionReport Build(IEnumerable<ConnectionSnapshot> rows, ConnectionQuery query, double? stalledThresholdSeconds = null, double? ageThresholdSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(query);

        var totals = new Dictionary<string, ConnectionTotals>(StringComparer.Ordinal)
        {
            [ConnectionSides.Inbound] = NewTotals(ConnectionStates.Inbound),
            [ConnectionSides.Outbound] = NewTotals(ConnectionStates.Outbound),
        };

        var matching = new List<ConnectionSnapshot>();
        foreach (var row in rows)
        {
            if (!query.Matches(row))
            {
                continue;
            }

            matching.Add(row);
            var side = totals[row.Side];
            side.Total++;
            side.States[row.State]++;
        }

        // Oldest first, because the oldest connections are the likeliest leaks; the id breaks ties so the
        // order is stable between two reads.
        matching.Sort(static (a, b) =>
        {
            var byAge = a.OpenedTimestamp.CompareTo(b.OpenedTimestamp);
            return byAge != 0 ? byAge : string.CompareOrdinal(a.Id, b.Id);
        });

        var truncated = matching.Count > query.Limit;
        if (truncated)
        {
            matching.RemoveRange(query.Limit, matching.Count - query.Limit);
        }

        return new ConnectionReport
        {
            StalledThresholdSeconds = stalledThresholdSeconds,
            AgeThresholdSeconds = ageThresholdSeconds,
            Totals = totals,
            Truncated = truncated,
            Connections = matching,
        };
    }

    private static ConnectionTotals NewTotals(IReadOnlyList<string> states) =>
        new() { States = states.ToDictionary(static state => state, static _ => 0, StringComparer.Ordinal) };
}
