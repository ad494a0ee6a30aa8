using System.Globalization;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Http;

namespace ConnLeakGuard.Admin;

/// <summary>
/// The query parameters of <c>/debug/connections</c> and <c>/debug/leaks</c>: <c>format</c>, <c>side</c>,
/// <c>state</c>, <c>older_than</c>, <c>cluster</c> and <c>limit</c>.
/// </summary>
internal sealed class ConnectionQuery
{
    /// <summary>Rows returned when <c>limit</c> is not given: enough for any pod one operator reads, and a bounded response.</summary>
    public const int DefaultLimit = 1000;

    /// <summary>Largest accepted <c>limit</c>, the default maximum of concurrent client connections.</summary>
    public const int MaxLimit = 10_000;

    private static readonly string[] s_parameters = ["format", "side", "state", "older_than", "cluster", "limit"];

    /// <summary>Whether the response is the aligned text table rather than JSON.</summary>
    public bool Text { get; private init; }

    /// <summary>Only this side, or both when null.</summary>
    public string? Side { get; private init; }

    /// <summary>Only this state, or all when null.</summary>
    public string? State { get; private init; }

    /// <summary>Only connections older than this, or all when null.</summary>
    public TimeSpan? OlderThan { get; private init; }

    /// <summary>Only outbound connections of this cluster, or all connections when null.</summary>
    public string? Cluster { get; private init; }

    /// <summary>Maximum rows returned; the totals still count every matching connection.</summary>
    public int Limit { get; private init; } = DefaultLimit;

    /// <summary>
    /// Parses <paramref name="query"/>. On failure <paramref name="error"/> is one line naming the parameter,
    /// the value and the expected form.
    /// </summary>
    public static bool TryParse(IQueryCollection query, out ConnectionQuery result, out string? error)
    {
        ArgumentNullException.ThrowIfNull(query);

        result = new ConnectionQuery();
        error = null;

        foreach (var (name, values) in query)
        {
            if (!s_parameters.Contains(name, StringComparer.Ordinal))
            {
                error = $"Unknown query parameter '{name}'; the parameters are {string.Join(", ", s_parameters)}.";
                return false;
            }

            if (values.Count > 1)
            {
                error = $"Query parameter '{name}' is given {values.Count} times; give it once.";
                return false;
            }
        }

        var format = query["format"].ToString();
        if (format.Length > 0 && format != "json" && format != "text")
        {
            error = Invalid("format", format, "'json' or 'text'");
            return false;
        }

        var side = Optional(query, "side");
        if (side is not null && side != ConnectionSides.Inbound && side != ConnectionSides.Outbound)
        {
            error = Invalid("side", side, $"'{ConnectionSides.Inbound}' or '{ConnectionSides.Outbound}'");
            return false;
        }

        var state = Optional(query, "state");
        if (state is not null && !TryCheckState(state, side, out error))
        {
            return false;
        }

        TimeSpan? olderThan = null;
        if (Optional(query, "older_than") is { } olderText)
        {
            if (!DurationParser.TryParse(olderText, out var duration, out _))
            {
                error = Invalid("older_than", olderText, "a duration with a unit, such as '5s', '500ms' or '2m'");
                return false;
            }

            olderThan = duration;
        }

        var limit = DefaultLimit;
        if (Optional(query, "limit") is { } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            error = Invalid("limit", limitText, $"a whole number from 1 to {MaxLimit.ToString(CultureInfo.InvariantCulture)}");
            return false;
        }

        result = new ConnectionQuery
        {
            Text = format == "text",
            Side = side,
            State = state,
            OlderThan = olderThan,
            Cluster = Optional(query, "cluster"),
            Limit = limit,
        };
        return true;
    }

    /// <summary>Returns whether <paramref name="row"/> passes every filter.</summary>
    public bool Matches(ConnectionSnapshot row)
    {
        ArgumentNullException.ThrowIfNull(row);

        return (Side is null || row.Side == Side)
            && (State is null || row.State == State)
            && (OlderThan is not { } olderThan || row.AgeSeconds > olderThan.TotalSeconds)
            && (Cluster is null || string.Equals(row.Cluster, Cluster, StringComparison.OrdinalIgnoreCase));
    }

    private static bool TryCheckState(string state, string? side, out string? error)
    {
        error = null;
        var states = side is null ? ConnectionStates.Inbound.Concat(ConnectionStates.Outbound) : ConnectionStates.Of(side);
        if (states.Contains(state, StringComparer.Ordinal))
        {
            return true;
        }

        var expected = side is null
            ? $"one of {string.Join(", ", ConnectionStates.Inbound)} (inbound) or {string.Join(", ", ConnectionStates.Outbound)} (outbound)"
            : $"one of the {side} states {string.Join(", ", ConnectionStates.Of(side))}";
        error = Invalid("state", state, expected);
        return false;
    }

    private static string? Optional(IQueryCollection query, string name)
    {
        var value = query[name].ToString();
        return value.Length == 0 ? null : value;
    }

    private static string Invalid(string name, string value, string expected) =>
        $"Invalid query parameter {name}='{value}': expected {expected}.";
}
