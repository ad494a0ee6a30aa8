using System.Text;
using ConnLeakGuard.LeakLab.Upstream;
using Xunit;

namespace ConnLeakGuard.LeakLab.Tests;

public sealed class RequestHeadTests
{
    [Fact]
    public void Parse_KeepAliveGet()
    {
        Assert.True(RequestHead.TryParse(Bytes("GET /api/orders HTTP/1.1\r\nHost: x"), out RequestHead? head));

        Assert.NotNull(head);
        Assert.Equal("GET", head.Method);
        Assert.Equal("/api/orders", head.Target);
        Assert.Equal(0, head.ContentLength);
        Assert.False(head.CloseAfterResponse);
    }

    [Fact]
    public void Parse_PostContentLength()
    {
        Assert.True(RequestHead.TryParse(Bytes("POST /upload HTTP/1.1\r\nHost: x\r\ncontent-length: 524288"), out RequestHead? head));

        Assert.Equal(524288, head!.ContentLength);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nConnection: close", true)]
    [InlineData("GET / HTTP/1.0", true)]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive", false)]
    public void Parse_ConnectionPersistence(string text, bool expectedClose)
    {
        Assert.True(RequestHead.TryParse(Bytes(text), out RequestHead? head));

        Assert.Equal(expectedClose, head!.CloseAfterResponse);
    }

    [Fact]
    public void Parse_ChunkedFlagged()
    {
        Assert.True(RequestHead.TryParse(Bytes("POST / HTTP/1.1\r\nTransfer-Encoding: chunked"), out RequestHead? head));

        Assert.True(head!.IsChunked);
    }

    [Theory]
    [InlineData("GET /")]
    [InlineData("GET / HTTP/2.0")]
    [InlineData("GET / HTTP/1.1\r\nno colon here")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: -1")]
    public void Parse_RejectsMalformed(string text)
    {
        Assert.False(RequestHead.TryParse(Bytes(text), out _));
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
