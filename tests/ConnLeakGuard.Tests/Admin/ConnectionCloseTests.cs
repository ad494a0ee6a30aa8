using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.Tests.Admin;

/// <summary>
/// <c>POST /debug/connections/{id}/close</c> from a loopback client: the named connection closes, its
/// client or upstream observes the close, and every other connection stays open.
/// </summary>
public sealed class ConnectionCloseTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Close_InboundById_ClosesOnlyThatConnection()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var debug = new DebugClient(guard.AdminUri);
        using var target = await OpenIdleAsync(guard);
        using var bystander = await OpenIdleAsync(guard);
        var report = await debug.WaitForAsync("/debug/connections?side=inbound", r => r.Listed == 2, s_timeout);
        var targetId = report.InboundFrom(DebugClient.PortOf(target))!.Id;

        var (status, body) = await debug.CloseAsync(targetId);

        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        Assert.Contains("\"close_requested\"", body, StringComparison.Ordinal);
        Assert.True(await RawHttp.WaitForCloseAsync(target, s_timeout), "the closed connection's client did not see the close");
        Assert.False(await RawHttp.WaitForCloseAsync(bystander, TimeSpan.FromSeconds(1)), "the other connection was closed too");
        await RawHttp.SendAsync(bystander, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(bystander, s_timeout))?.StatusCode);

        var after = await debug.WaitForAsync("/debug/connections?side=inbound", r => r.Listed == 1, s_timeout);
        Assert.Equal(DebugClient.PortOf(bystander), Assert.Single(after.Connections).RemotePort);
        var scrape = await guard.ScrapeAsync();
        Assert.Equal(1, scrape.Sum("connleakguard_inbound_connections_closed_total", ("reason", "admin_close")));
        await guard.WaitForSingleLogEventAsync("AdminConnectionClosed", s_timeout);
    }

    [Fact]
    public async Task Close_AbortTrue_ResetsOnlyThatConnection()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var debug = new DebugClient(guard.AdminUri);
        using var target = await OpenIdleAsync(guard);
        using var bystander = await OpenIdleAsync(guard);
        var report = await debug.WaitForAsync("/debug/connections?side=inbound", r => r.Listed == 2, s_timeout);
        var targetId = report.InboundFrom(DebugClient.PortOf(target))!.Id;

        var (status, body) = await debug.CloseAsync(targetId, "?abort=true");

        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Contains("\"aborted\"", body, StringComparison.Ordinal);
        Assert.True(await RawHttp.WaitForCloseAsync(target, s_timeout), "the aborted connection's client did not see the close");
        Assert.False(await RawHttp.WaitForCloseAsync(bystander, TimeSpan.FromSeconds(1)), "the other connection was closed too");

        var after = await debug.WaitForAsync("/debug/connections?side=inbound", r => r.Listed == 1, s_timeout);
        Assert.Equal(DebugClient.PortOf(bystander), Assert.Single(after.Connections).RemotePort);
        Assert.Equal(HttpStatusCode.NotFound, (await debug.CloseAsync(targetId, "?abort=true")).Status);
        var scrape = await guard.ScrapeAsync();
        Assert.Equal(1, scrape.Sum("connleakguard_inbound_connections_closed_total", ("reason", "admin_close")));
    }

    [Fact]
    public async Task Close_OutboundById_ClosesUpstreamConnection()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Outbound:PooledConnectionIdleTimeout"] = "5m",
        });
        using var debug = new DebugClient(guard.AdminUri);
        using var client = await OpenIdleAsync(guard);
        var report = await debug.WaitForAsync("/debug/connections?side=outbound&state=idle", r => r.Listed == 1, s_timeout);
        var pooled = Assert.Single(report.Connections);
        Assert.Equal(1, upstream.OpenConnections);

        var (status, body) = await debug.CloseAsync(pooled.Id);

        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        Assert.Contains("\"outbound\"", body, StringComparison.Ordinal);
        Assert.True(await TestUpstream.WaitForAsync(() => upstream.OpenConnections == 0, s_timeout), "the upstream did not see the close");
        var after = await debug.WaitForAsync("/debug/connections?side=outbound", r => r.Listed == 0, s_timeout);
        Assert.Empty(after.Connections);
        Assert.False(await RawHttp.WaitForCloseAsync(client, TimeSpan.FromMilliseconds(500)), "the client connection was closed too");

        // The next request opens a new upstream connection.
        await RawHttp.SendAsync(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(client, s_timeout))?.StatusCode);
        Assert.Equal(2, upstream.AcceptedConnections);
    }

    [Fact]
    public async Task Close_InvalidRequest_ClosesNothing()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await GuardProcess.StartAsync(upstream.Uri);
        using var debug = new DebugClient(guard.AdminUri);
        using var client = await OpenIdleAsync(guard);
        var report = await debug.WaitForAsync("/debug/connections?side=inbound", r => r.Listed == 1, s_timeout);
        var id = Assert.Single(report.Connections).Id;

        var unknown = await debug.CloseAsync("no-such-connection");
        var badAbort = await debug.CloseAsync(id, "?abort=maybe");

        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Contains("no-such-connection", unknown.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badAbort.Status);
        Assert.Contains("abort='maybe'", badAbort.Body, StringComparison.Ordinal);
        Assert.False(await RawHttp.WaitForCloseAsync(client, TimeSpan.FromSeconds(1)), "a rejected request closed the connection");
        var scrape = await guard.ScrapeAsync();
        Assert.Equal(0, scrape.Sum("connleakguard_inbound_connections_closed_total", ("reason", "admin_close")));
    }

    // Opens a client connection and completes one request, leaving it idle between requests.
    private static async Task<Socket> OpenIdleAsync(GuardProcess guard)
    {
        var socket = await RawHttp.ConnectAsync(guard.ProxyEndPoint);
        await RawHttp.SendAsync(socket, "GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(socket, s_timeout))?.StatusCode);
        return socket;
    }
}
