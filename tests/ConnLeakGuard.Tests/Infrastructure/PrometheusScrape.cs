using System.Globalization;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>A parsed Prometheus text exposition: sample lines by series name.</summary>
public sealed class PrometheusScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples;

    private PrometheusScrape(List<(string, Dictionary<string, string>, double)> samples, string text)
    {
        _samples = samples;
        Text = text;
    }

    /// <summary>The raw exposition.</summary>
    public string Text { get; }

    /// <summary>Parses the exposition text.</summary>
    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<(string, Dictionary<string, string>, double)>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var lastSpace = line.LastIndexOf(' ');
            string name;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0 && brace < lastSpace)
            {
                name = line[..brace];
                var close = line.LastIndexOf('}');
                foreach (var pair in SplitLabels(line[(brace + 1)..close]))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..equals]] = pair[(equals + 2)..^1];
                }
            }
            else
            {
                name = line[..line.IndexOf(' ', StringComparison.Ordinal)];
            }

            var valueText = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
            if (double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                samples.Add((name, labels, value));
            }
        }

        return new PrometheusScrape(samples, text);
    }

    /// <summary>Sums the samples of <paramref name="name"/> whose labels include every pair in <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    /// <summary>Whether any sample of <paramref name="name"/> exists.</summary>
    public bool Has(string name) => _samples.Any(s => s.Name == name);

    private static IEnumerable<string> SplitLabels(string text)
    {
        var start = 0;
        var inQuotes = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"' && (i == 0 || text[i - 1] != '\\'))
            {
                inQuotes = !inQuotes;
            }
            else if (text[i] == ',' && !inQuotes)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }
}
