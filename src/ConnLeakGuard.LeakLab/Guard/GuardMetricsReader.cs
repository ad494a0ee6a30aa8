using System.Globalization;
using System.Net;

namespace ConnLeakGuard.LeakLab.Guard;

/// <summary>Reads the guard's open inbound connections from its Prometheus endpoint.</summary>
internal sealed class GuardMetricsReader : IDisposable
{
    private const string ActiveConnections = "kestrel_active_connections";

    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromMilliseconds(500) };
    private readonly Uri _metricsUri;
    private readonly string _inboundPortLabel;

    public GuardMetricsReader(GuardEndpoints endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        _metricsUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{endpoints.Admin}/metrics"));
        _inboundPortLabel = string.Create(CultureInfo.InvariantCulture, $"server_port=\"{endpoints.Inbound.Port}\"");
    }

    /// <summary>
    /// Returns the sum of <c>kestrel_active_connections</c> over the series of the inbound port, or
    /// null when the endpoint does not respond or has no such series. The admin port's own connection
    /// is left out when the series carry a <c>server_port</c> label.
    /// </summary>
    public async Task<int?> ReadInboundConnectionsAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            using HttpResponseMessage response = await _client.GetAsync(_metricsUri, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }

            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return null;
        }

        return SumInboundSeries(text);
    }

    public void Dispose() => _client.Dispose();

    internal int? SumInboundSeries(string exposition)
    {
        double all = 0;
        double inbound = 0;
        bool found = false;
        bool labelled = false;
        foreach (string line in exposition.Split('\n'))
        {
            bool isSeries = line.StartsWith(ActiveConnections + "{", StringComparison.Ordinal)
                || line.StartsWith(ActiveConnections + " ", StringComparison.Ordinal);
            if (!isSeries)
            {
                continue;
            }

            // A sample line is "name{labels} value [timestamp]" or "name value [timestamp]".
            int labelsEnd = line.LastIndexOf('}');
            int valueStart = labelsEnd >= 0 ? labelsEnd + 1 : ActiveConnections.Length;
            string[] rest = line[valueStart..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0 || !double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                continue;
            }

            found = true;
            all += value;
            if (line.Contains("server_port=", StringComparison.Ordinal))
            {
                labelled = true;
                if (line.Contains(_inboundPortLabel, StringComparison.Ordinal))
                {
                    inbound += value;
                }
            }
        }

        if (!found)
        {
            return null;
        }

        return (int)(labelled ? inbound : all);
    }
}
