using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Admin;

/// <summary>
/// <c>GET /debug/connections</c> against the real guard: each connection appears once with the state its
/// client and upstream put it in, and the totals count the rows.
/// </summary>
public sealed class ConnectionTableTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Table_MixedConnections_ListsEachWithItsState()
    {
        var uploadArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = context => HandleAsync(context, uploadArrived);
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            // The upload streams to the upstream as it arrives, and a sender this slow stays within the body rate.
            ["ConnLeakGuard:Inbound:RequestBufferSize"] = "off",
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRate"] = "1B",
            ["ConnLeakGuard:Inbound:MinRequestBodyDataRateGracePeriod"] = "5m",
            // The silent connection and the pooled upstream connections must outlive the test.
            ["ConnLeakGuard:Inbound:RequestHeadersTimeout"] = "1m",
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = "5m",
        });
        using var debug = new DebugClient(guard.AdminUri);

        // The upload takes an upstream connection first, so the two slow requests open two more.
        using var upload = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(upload, "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 1048576\r\n\r\n0123456789");
        await uploadArrived.Task.WaitAsync(s_timeout);

        using var first = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        using var second = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await Task.WhenAll(RawHttp.SendAsync(first, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n"), RawHttp.SendAsync(second, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n"));
        var responses = await Task.WhenAll(RawHttp.ReadResponseAsync(first, s_timeout), RawHttp.ReadResponseAsync(second, s_timeout));
        Assert.All(responses, response => Assert.Equal(200, response?.StatusCode));

        using var silent = await RawHttp.ConnectAsync(guard.ProxyEndPoint);

        var report = await debug.WaitForAsync(
            "/debug/connections",
            r => r.Side("inbound").Count == 4 && r.Side("outbound").Count(row => row.State == "idle") == 2,
            s_timeout);

        var uploadRow = report.InboundFrom(DebugClient.PortOf(upload));
        var firstRow = report.InboundFrom(DebugClient.PortOf(first));
        var secondRow = report.InboundFrom(DebugClient.PortOf(second));
        var silentRow = report.InboundFrom(DebugClient.PortOf(silent));
        Assert.Equal(4, report.Side("inbound").Count);
        Assert.Equal("reading_body", uploadRow?.State);
        Assert.Equal("idle_keep_alive", firstRow?.State);
        Assert.Equal("idle_keep_alive", secondRow?.State);
        Assert.Equal("awaiting_headers", silentRow?.State);

        Assert.Equal(10, uploadRow!.BytesRead);
        Assert.Equal(1, uploadRow.Requests);
        Assert.Equal("HTTP/1.1", uploadRow.Protocol);
        Assert.Equal(1, firstRow!.Requests);
        Assert.Equal("slow".Length, firstRow.BytesWritten);
        Assert.Equal(0, silentRow!.Requests);
        Assert.Null(silentRow.Protocol);
        Assert.All(report.Side("inbound"), row => Assert.Equal(guard.ProxyEndPoint.Port, row.LocalPort));
        Assert.All(report.Side("inbound"), row => Assert.Equal("127.0.0.1", row.RemoteAddress));

        var outbound = report.Side("outbound");
        Assert.Equal(3, outbound.Count);
        Assert.Equal(1, outbound.Count(row => row.State == "active"));
        Assert.Equal(2, outbound.Count(row => row.State == "idle"));
        Assert.Equal(3, upstream.OpenConnections);
        Assert.All(outbound, row => Assert.Equal(1, row.Requests));
        Assert.All(outbound, row => Assert.Equal("app", row.Cluster));
        Assert.All(outbound, row => Assert.Equal(upstream.Uri.Port, row.RemotePort));
        Assert.All(outbound, row => Assert.Equal("127.0.0.1", row.RemoteAddress));
        Assert.All(outbound, row => Assert.StartsWith("out-", row.Id, StringComparison.Ordinal));
        Assert.Equal(3, outbound.Select(row => row.LocalPort).Distinct().Count());

        Assert.Equal(7, report.Listed);
        Assert.Equal(4, report.Totals["inbound"].Total);
        Assert.Equal(1, report.Totals["inbound"].States["awaiting_headers"]);
        Assert.Equal(1, report.Totals["inbound"].States["reading_body"]);
        Assert.Equal(2, report.Totals["inbound"].States["idle_keep_alive"]);
        Assert.Equal(0, report.Totals["inbound"].States["waiting_on_upstream"]);
        Assert.Equal(0, report.Totals["inbound"].States["writing_response"]);
        Assert.Equal(0, report.Totals["inbound"].States["upgraded"]);
        Assert.Equal(3, report.Totals["outbound"].Total);
        Assert.Equal(1, report.Totals["outbound"].States["active"]);
        Assert.Equal(2, report.Totals["outbound"].States["idle"]);
        foreach (var (side, totals) in report.Totals)
        {
            foreach (var (state, count) in totals.States)
            {
                Assert.Equal(report.Connections.Count(row => row.Side == side && row.State == state), count);
            }
        }

        var ages = report.Connections.Select(row => row.AgeSeconds).ToList();
        Assert.Equal(ages.OrderByDescending(age => age), ages);
    }

    [Fact]
    public async Task OlderThan_FiveSeconds_ListsOnlyOlderConnections()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:RequestHeadersTimeout"] = "1m",
        });
        using var debug = new DebugClient(guard.AdminUri);

        using var old = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(old, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(old, s_timeout))?.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        using var young = await RawHttp.ConnectAsync(guard.ProxyEndPoint);

        var all = await debug.WaitForAsync("/debug/connections", r => r.InboundFrom(DebugClient.PortOf(young)) is not null, s_timeout);
        var older = await debug.GetAsync("/debug/connections?older_than=5s");

        Assert.NotNull(all.InboundFrom(DebugClient.PortOf(old)));
        Assert.NotNull(older.InboundFrom(DebugClient.PortOf(old)));
        Assert.Null(older.InboundFrom(DebugClient.PortOf(young)));
        Assert.All(older.Connections, row => Assert.True(row.AgeSeconds > 5, $"{row.Side} {row.Id} is {row.AgeSeconds} s old"));
        Assert.Equal(older.Connections.Count, older.Totals.Values.Sum(totals => totals.Total));
    }

    [Fact]
    public async Task Filters_SideStateCluster_SelectRows()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:RequestHeadersTimeout"] = "1m",
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = "5m",
        });
        using var debug = new DebugClient(guard.AdminUri);

        using var used = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(used, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(used, s_timeout))?.StatusCode);
        using var silent = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await debug.WaitForAsync("/debug/connections", r => r.Listed == 3 && r.Side("outbound").All(row => row.State == "idle"), s_timeout);

        var inbound = await debug.GetAsync("/debug/connections?side=inbound");
        var awaiting = await debug.GetAsync("/debug/connections?state=awaiting_headers");
        var cluster = await debug.GetAsync("/debug/connections?cluster=app");
        var otherCluster = await debug.GetAsync("/debug/connections?cluster=other");
        var limited = await debug.GetAsync("/debug/connections?limit=1");

        Assert.Equal(2, inbound.Listed);
        Assert.All(inbound.Connections, row => Assert.Equal("inbound", row.Side));
        Assert.Equal(0, inbound.Totals["outbound"].Total);
        Assert.Equal(DebugClient.PortOf(silent), Assert.Single(awaiting.Connections).RemotePort);
        Assert.Equal("outbound", Assert.Single(cluster.Connections).Side);
        Assert.Empty(otherCluster.Connections);
        Assert.Single(limited.Connections);
        Assert.True(limited.Truncated);
        Assert.Equal(3, limited.Totals.Values.Sum(totals => totals.Total));
    }

    [Fact]
    public async Task TextFormat_AlignsColumnsUnderHeader()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = "5m",
        });
        using var debug = new DebugClient(guard.AdminUri);

        using var client = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(client, s_timeout))?.StatusCode);
        var json = await debug.WaitForAsync("/debug/connections", r => r.Listed == 2, s_timeout);

        var (status, text) = await debug.GetTextAsync("/debug/connections?format=text");

        Assert.Equal(HttpStatusCode.OK, status);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.StartsWith("inbound 1: ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("outbound 1: ", lines[1], StringComparison.Ordinal);
        var header = Array.FindIndex(lines, line => line.StartsWith("SIDE ", StringComparison.Ordinal));
        Assert.True(header > 0, text);
        var rows = lines[(header + 1)..];
        Assert.Equal(2, rows.Length);
        foreach (var column in new[] { "ID", "STATE", "REMOTE", "LOCAL", "AGE", "REQUESTS", "CLUSTER" })
        {
            // Columns are separated by at least two spaces, which also keeps "ID" from matching inside "SIDE".
            var start = lines[header].IndexOf("  " + column + " ", StringComparison.Ordinal) + 2;
            Assert.All(rows, row => Assert.True(row[start] != ' ' && row[start - 1] == ' ', $"column {column} at {start} is not aligned in:\n{text}"));
        }

        foreach (var row in json.Connections)
        {
            Assert.Contains(rows, line => line.Contains(row.Id, StringComparison.Ordinal) && line.Contains(row.State, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task InvalidQuery_Returns400NamingParameter()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var debug = new DebugClient(guard.AdminUri);
        var cases = new (string Query, string Parameter, string Value, string Expected)[]
        {
            ("older_than=5", "older_than", "5", "a duration"),
            ("older_than=soon", "older_than", "soon", "a duration"),
            ("side=left", "side", "left", "'inbound' or 'outbound'"),
            ("state=sleeping", "state", "sleeping", "awaiting_headers"),
            ("side=inbound&state=active", "state", "active", "idle_keep_alive"),
            ("limit=0", "limit", "0", "whole number"),
            ("format=xml", "format", "xml", "'json' or 'text'"),
            ("olderthan=5s", "olderthan", string.Empty, "older_than"),
        };

        foreach (var (query, parameter, value, expected) in cases)
        {
            var (status, body) = await debug.GetTextAsync("/debug/connections?" + query);

            Assert.True(status == HttpStatusCode.BadRequest, $"{query}: {(int)status} {body}");
            Assert.Single(body.TrimEnd('\n').Split('\n'));
            Assert.Contains(parameter, body, StringComparison.Ordinal);
            Assert.Contains(value, body, StringComparison.Ordinal);
            Assert.Contains(expected, body, StringComparison.Ordinal);
        }
    }

    private static async Task HandleAsync(HttpContext context, TaskCompletionSource uploadArrived)
    {
        switch (context.Request.Path.Value)
        {
            case "/upload":
                uploadArrived.TrySetResult();
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                await context.Response.WriteAsync("uploaded");
                break;
            case "/slow":
                await Task.Delay(TimeSpan.FromSeconds(1), context.RequestAborted);
                await context.Response.WriteAsync("slow");
                break;
            default:
                await context.Response.WriteAsync("ok");
                break;
        }
    }
}
