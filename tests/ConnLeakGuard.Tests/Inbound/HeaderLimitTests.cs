using System.Text;

namespace ConnLeakGuard.Tests.Inbound;

[Collection(SequentialTests.Name)]
public sealed class HeaderLimitTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private GuardProcess _guard = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _guard = await GuardProcess.StartAsync(_upstream.Uri, new Dictionary<string, string>
        {
            ["ConnLeakGuard:Inbound:MaxRequestHeaderSize"] = "8KiB",
            ["ConnLeakGuard:Inbound:MaxRequestHeadersTotalSize"] = "32KiB",
            ["ConnLeakGuard:Inbound:MaxRequestHeaderCount"] = "100",
            ["ConnLeakGuard:Inbound:MaxRequestLineSize"] = "8KiB",
            ["ConnLeakGuard:Inbound:MaxRequestBodySize"] = "1MiB",
        });
    }

    public async Task DisposeAsync()
    {
        await _guard.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    public static TheoryData<string, int> OversizedRequests => new()
    {
        { "one 16 KiB header", 431 },
        { "40 KiB of headers", 431 },
        { "150 small headers", 431 },
        { "10 KiB request line", 414 },
        { "Content-Length over the body cap", 413 },
    };

    [Theory]
    [MemberData(nameof(OversizedRequests))]
    public async Task OversizedRequest_IsRejectedBeforeUpstream(string shape, int expectedStatus)
    {
        var requestsBefore = _upstream.Requests;
        using var socket = await RawHttp.ConnectAsync(_guard.ProxyEndPoint);

        await RawHttp.SendAsync(socket, BuildRequest(shape));
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        Assert.NotNull(response);
        Assert.Equal(expectedStatus, response.StatusCode);
        Assert.Equal(requestsBefore, _upstream.Requests);
    }

    [Fact]
    public async Task RequestWithinLimits_ReachesUpstream()
    {
        using var socket = await RawHttp.ConnectAsync(_guard.ProxyEndPoint);

        await RawHttp.SendAsync(socket, $"GET /ok HTTP/1.1\r\nHost: test\r\nX-Fill: {new string('a', 4000)}\r\n\r\n");
        var response = await RawHttp.ReadResponseAsync(socket, TimeSpan.FromSeconds(10));

        Assert.NotNull(response);
        Assert.Equal(200, response.StatusCode);
    }

    private static string BuildRequest(string shape)
    {
        var request = new StringBuilder();
        switch (shape)
        {
            case "one 16 KiB header":
                request.Append("GET / HTTP/1.1\r\nHost: test\r\n");
                request.Append("X-Big: ").Append('a', 16 * 1024).Append("\r\n");
                break;
            case "40 KiB of headers":
                request.Append("GET / HTTP/1.1\r\nHost: test\r\n");
                for (var i = 0; i < 10; i++)
                {
                    request.Append("X-Part-").Append(i).Append(": ").Append('b', 4 * 1024).Append("\r\n");
                }

                break;
            case "150 small headers":
                request.Append("GET / HTTP/1.1\r\nHost: test\r\n");
                for (var i = 0; i < 150; i++)
                {
                    request.Append("X-H").Append(i).Append(": v\r\n");
                }

                break;
            case "10 KiB request line":
                request.Append("GET /").Append('c', 10 * 1024).Append(" HTTP/1.1\r\nHost: test\r\n");
                break;
            case "Content-Length over the body cap":
                request.Append("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 2097152\r\n");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, "unknown request shape");
        }

        return request.Append("\r\n").ToString();
    }
}
