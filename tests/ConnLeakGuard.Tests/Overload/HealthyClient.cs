using System.Net;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// A well-behaved client that sends one GET at a time through the guard, with keep-alive and a short pause
/// between requests, until stopped. It counts 200 responses as successes and everything else (another
/// status, a refused or reset connection, a timeout) as failures, keeping the first few failure messages
/// and the time of every outcome.
/// </summary>
internal sealed class HealthyClient
{
    private readonly List<string> _failures = [];
    private readonly List<(DateTime At, bool Succeeded)> _outcomes = [];

    /// <summary>Requests that got a 200 response.</summary>
    public int Succeeded => _outcomes.Count(o => o.Succeeded);

    /// <summary>Requests that failed.</summary>
    public int Failed => _outcomes.Count - Succeeded;

    /// <summary>The first failures, for the assertion message.</summary>
    public string DescribeFailures() => string.Join('\n', _failures);

    /// <summary>
    /// Counts the outcomes that ended outside every window, each window widened by <paramref name="margin"/>
    /// on both sides. Read it after <see cref="RunAsync"/> has returned.
    /// </summary>
    public (int Succeeded, int Failed) CountOutside(IReadOnlyList<(DateTime From, DateTime To)> windows, TimeSpan margin)
    {
        var outside = _outcomes.Where(o => !windows.Any(w => o.At >= w.From - margin && o.At <= w.To + margin)).ToList();
        return (outside.Count(o => o.Succeeded), outside.Count(o => !o.Succeeded));
    }

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
                    _outcomes.Add((DateTime.UtcNow, true));
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
        _outcomes.Add((DateTime.UtcNow, false));
        if (_failures.Count < 10)
        {
            _failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {message}");
        }
    }
}
