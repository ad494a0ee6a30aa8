using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// A well-behaved client: a pooled <see cref="HttpClient"/> that starts requests on a fixed schedule
/// (open loop, so a slow server does not slow the schedule down) and records each outcome.
/// </summary>
internal sealed class HealthyClient : IDisposable
{
    private readonly HttpClient _client;
    private readonly Uri _requestUri;
    private readonly double _requestsPerSecond;
    private readonly TimeSpan _requestTimeout;

    public HealthyClient(IPEndPoint target, double requestsPerSecond, TimeSpan requestTimeout)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerSecond);

        _requestsPerSecond = requestsPerSecond;
        _requestTimeout = requestTimeout;
        _requestUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{target}/api/health-check"));

        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 8,

            // Shorter than the guard's keep-alive timeout (2 s in LeakLab's configuration), so the
            // client retires an idle connection before the server does and never races its close.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ConnectCallback = ConnectFromHealthyAddressAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HealthyRequestRecorder Recorder { get; } = new();

    /// <summary>Sends requests on schedule until <paramref name="cancellationToken"/> is cancelled, then waits for those in flight.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var inFlight = new List<Task>();
        long startTimestamp = Stopwatch.GetTimestamp();
        long started = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                long due = (long)(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds * _requestsPerSecond);
                while (started < due)
                {
                    started++;
                    inFlight.Add(SendOneAsync());
                }

                inFlight.RemoveAll(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
            // Stop starting requests; those in flight finish or time out on their own.
        }

        await Task.WhenAll(inFlight);
    }

    public void Dispose() => _client.Dispose();

    private async Task SendOneAsync()
    {
        long startTimestamp = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(_requestTimeout);
        try
        {
            using HttpResponseMessage response = await _client.GetAsync(_requestUri, HttpCompletionOption.ResponseContentRead, timeout.Token);
            TimeSpan latency = Stopwatch.GetElapsedTime(startTimestamp);
            if (response.IsSuccessStatusCode)
            {
                Recorder.RecordSuccess(latency);
            }
            else
            {
                Recorder.RecordFailure(string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode}"), latency);
            }
        }
        catch (OperationCanceledException)
        {
            Recorder.RecordFailure("Timeout", Stopwatch.GetElapsedTime(startTimestamp));
        }
        catch (HttpRequestException exception)
        {
            // HttpRequestError names the failure class: ConnectionError, ResponseEnded, InvalidResponse, Unknown...
            string reason = exception.HttpRequestError.ToString();
            if (exception.HttpRequestError == HttpRequestError.Unknown && exception.InnerException is not null)
            {
                reason = exception.InnerException.GetType().Name;
            }

            Recorder.RecordFailure(reason, Stopwatch.GetElapsedTime(startTimestamp));
        }
    }

    private static async ValueTask<Stream> ConnectFromHealthyAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(LoopbackAddresses.HealthyClient, 0));
            IPAddress address = IPAddress.Parse(context.DnsEndPoint.Host);
            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
