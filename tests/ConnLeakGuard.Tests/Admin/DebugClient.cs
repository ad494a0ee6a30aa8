using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ConnLeakGuard.Tests.Admin;

/// <summary>Reads the connection table and sends close requests over a guard's admin port.</summary>
internal sealed class DebugClient : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly HttpClient _http = new();
    private readonly Uri _admin;

    public DebugClient(Uri adminUri)
    {
        _admin = adminUri;
    }

    /// <summary>GETs <paramref name="pathAndQuery"/> and parses the JSON report; fails the test on any status but 200.</summary>
    public async Task<TableReport> GetAsync(string pathAndQuery)
    {
        using var response = await _http.GetAsync(new Uri(_admin, pathAndQuery));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {pathAndQuery} returned {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<TableReport>(body, s_json)!;
    }

    /// <summary>GETs <paramref name="pathAndQuery"/> and returns the status and body as text.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetTextAsync(string pathAndQuery)
    {
        using var response = await _http.GetAsync(new Uri(_admin, pathAndQuery));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Reads the report until <paramref name="condition"/> is true or <paramref name="timeout"/> passes, and
    /// returns the last report read either way.
    /// </summary>
    public async Task<TableReport> WaitForAsync(string pathAndQuery, Func<TableReport, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var report = await GetAsync(pathAndQuery);
        while (!condition(report) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            report = await GetAsync(pathAndQuery);
        }

        return report;
    }

    /// <summary>POSTs a close of connection <paramref name="id"/> and returns the status and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> CloseAsync(string id, string query = "")
    {
        using var response = await _http.PostAsync(new Uri(_admin, $"/debug/connections/{Uri.EscapeDataString(id)}/close{query}"), content: null);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Returns the local port of a client socket, which the guard lists as the remote port.</summary>
    public static int PortOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    public void Dispose() => _http.Dispose();
}
