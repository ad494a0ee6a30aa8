using System.Net;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// A well-behaved client that sends one GET at a time through the guard, with keep-alive and a short pause
/// between requests, until stopped. It counts 200 responses as successes and everything else (another
/// status, a refused or reset connection, a timeout) as failures, keeping the first few failure messages.
/// </summary>
internal sealed class HealthyClient
{
    private readonly List<string> _failures = [];

    /// <summary>Requests that got a 200 response.</summary>
    public int Succeeded { get; private set; }

    /// <summary>Requests that failed.</summary>
    public int Failed { get; private set; }

    /// <summary>Share of requests that got a 200 response, or 0 before the first request.</summary>
    public double SuccessRatio => Succeeded + Failed == 0 ? 0 : (double)Succeeded / (Succeeded + Failed);

    /// <summary>The first failures, for the assertion message.</summary>
    public string DescribeFailures() => string.Join('\n', _failures);

    /// <summary>Sends requests to <paramref name="proxy"/> until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(IPEndPoint proxy, TimeSpan pause, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        {
            BaseAddress = new Uri($"http://{proxy}"),
            Timeout = TimeSpan.FromSeconds(5),
        };

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/healthy", UriKind.Relative), CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Succeeded++;
                }
                else
                {
                    Fail($"status {(int)response.StatusCode}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Fail(ex.GetBaseException().Message);
            }

            try
            {
                await Task.Delay(pause, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Fail(string message)
    {
        Failed++;
        if (_failures.Count < 10)
        {
            _failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {message}");
        }
    }
}
