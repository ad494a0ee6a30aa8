using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>
/// A small upstream on loopback for the guard to proxy to. It counts accepted and open connections,
/// requests, and requests whose client (the guard) aborted them; the handler is set per test.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _openConnections;
    private int _maxOpenConnections;
    private int _acceptedConnections;
    private int _requests;
    private int _abortedRequests;

    private TestUpstream(WebApplication app)
    {
        _app = app;
    }

    /// <summary>Handles each request; the default answers 200 "ok".</summary>
    public Func<HttpContext, Task> Handler { get; set; } = static context => context.Response.WriteAsync("ok");

    /// <summary>Base address.</summary>
    public Uri Uri { get; private set; } = null!;

    public int OpenConnections => Volatile.Read(ref _openConnections);

    public int MaxOpenConnections => Volatile.Read(ref _maxOpenConnections);

    public int AcceptedConnections => Volatile.Read(ref _acceptedConnections);

    public int Requests => Volatile.Read(ref _requests);

    public int AbortedRequests => Volatile.Read(ref _abortedRequests);

    /// <summary>
    /// Starts an upstream on 127.0.0.1 with a free port, speaking <paramref name="protocols"/>, closing
    /// connections idle for <paramref name="keepAliveTimeout"/> (default 2 minutes).
    /// </summary>
    public static async Task<TestUpstream> StartAsync(HttpProtocols protocols = HttpProtocols.Http1, TimeSpan? keepAliveTimeout = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        TestUpstream? upstream = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.KeepAliveTimeout = keepAliveTimeout ?? TimeSpan.FromMinutes(2);
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = protocols;
                listen.Use(next => async connection =>
                {
                    upstream!.OnConnectionOpened();

                    // Kestrel sends its FIN as soon as the server completes its output, which can be
                    // milliseconds before this middleware returns. The guard may open a replacement as soon
                    // as it detects that FIN, so the count drops when the output completes.
                    var closed = 0;
                    void OnClosed()
                    {
                        if (Interlocked.Exchange(ref closed, 1) == 0)
                        {
                            Interlocked.Decrement(ref upstream._openConnections);
                        }
                    }

                    var transport = connection.Transport;
                    connection.Transport = new DuplexPipe(transport.Input, new CompletionNotifyingPipeWriter(transport.Output, OnClosed));
                    try
                    {
                        await next(connection);
                    }
                    finally
                    {
                        OnClosed();
                    }
                });
            });
        });

        var app = builder.Build();
        upstream = new TestUpstream(app);
        app.Run(upstream.HandleAsync);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.Uri = new Uri(address);
        return upstream;
    }

    /// <summary>Waits until <paramref name="condition"/> holds or <paramref name="timeout"/> passes; returns whether it held.</summary>
    public static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void OnConnectionOpened()
    {
        Interlocked.Increment(ref _acceptedConnections);
        var open = Interlocked.Increment(ref _openConnections);
        int max;
        while (open > (max = Volatile.Read(ref _maxOpenConnections)) && Interlocked.CompareExchange(ref _maxOpenConnections, open, max) != max)
        {
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);

        // A request counts as aborted once, whether the guard reset the connection (RequestAborted) or
        // closed it mid-body (the body read fails).
        var counted = 0;
        void CountAbort()
        {
            if (Interlocked.Exchange(ref counted, 1) == 0)
            {
                Interlocked.Increment(ref _abortedRequests);
            }
        }

        using var registration = context.RequestAborted.Register(CountAbort);
        try
        {
            await Handler(context);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            CountAbort();
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    // Forwards every call to the transport's writer and calls `completed` when the writer is completed.
    private sealed class CompletionNotifyingPipeWriter(PipeWriter inner, Action completed) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            completed();
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            completed();
            return inner.CompleteAsync(exception);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(source, cancellationToken);
    }
}
