using System.Net;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Parses listener URLs such as <c>http://127.0.0.1:8080</c>, <c>http://[::1]:8080</c>,
/// <c>http://localhost:8080</c> or <c>http://0.0.0.0:8080</c> into endpoints.
/// </summary>
/// <remarks>
/// Only <c>http</c> is accepted: a sidecar receives cleartext from the pod network or from a mesh that
/// terminates TLS. <c>localhost</c> binds both loopback addresses.
/// </remarks>
internal static class ListenUrl
{
    /// <summary>Parses a ';'-separated list of URLs; throws <see cref="FormatException"/> on the first invalid one.</summary>
    public static IReadOnlyList<IPEndPoint> ParseAll(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);

        var endpoints = new List<IPEndPoint>();
        foreach (var url in Split(urls))
        {
            if (!TryParse(url, endpoints, out var error))
            {
                throw new FormatException($"'{url}': {error}");
            }
        }

        return endpoints;
    }

    /// <summary>Returns one problem per invalid URL in <paramref name="urls"/>.</summary>
    public static IEnumerable<ConfigurationProblem> Validate(string key, string urls)
    {
        var parts = Split(urls).ToList();
        if (parts.Count == 0)
        {
            yield return new ConfigurationProblem(key, urls, "at least one URL is required, for example 'http://127.0.0.1:8080'");
        }

        foreach (var url in parts)
        {
            if (!TryParse(url, [], out var error))
            {
                yield return new ConfigurationProblem(key, url, error);
            }
        }
    }

    private static string[] Split(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool TryParse(string url, List<IPEndPoint> endpoints, out string error)
    {
        error = string.Empty;

        // Uri cannot parse the wildcard hosts that ASP.NET Core accepts; both mean every interface.
        var wildcard = url.Contains("://*:", StringComparison.Ordinal) || url.Contains("://+:", StringComparison.Ordinal);
        if (wildcard)
        {
            url = url.Replace("://*:", "://[::]:", StringComparison.Ordinal).Replace("://+:", "://[::]:", StringComparison.Ordinal);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            error = "not a valid listener URL; write 'http://ADDRESS:PORT', for example 'http://127.0.0.1:8080'";
            return false;
        }

        if (uri.IsDefaultPort && !url.Contains(":80", StringComparison.Ordinal))
        {
            error = "the port is missing; write 'http://ADDRESS:PORT'";
            return false;
        }

        if (uri.AbsolutePath != "/")
        {
            error = "a listener URL has no path";
            return false;
        }

        var host = uri.Host;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            endpoints.Add(new IPEndPoint(IPAddress.Loopback, uri.Port));
            endpoints.Add(new IPEndPoint(IPAddress.IPv6Loopback, uri.Port));
            return true;
        }

        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            error = "the host must be an IP address or 'localhost'";
            return false;
        }

        endpoints.Add(new IPEndPoint(address, uri.Port));
        return true;
    }
}
