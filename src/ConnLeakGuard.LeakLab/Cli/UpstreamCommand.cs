using System.Net;
using ConnLeakGuard.LeakLab.Upstream;
using Spectre.Console.Cli;

namespace ConnLeakGuard.LeakLab.Cli;

/// <summary>
/// Runs the leaky upstream in this process. LeakLab starts it as a child and reads its standard output.
/// It stops when its standard input closes, so it does not outlive a LeakLab that was killed.
/// </summary>
internal sealed class UpstreamCommand : AsyncCommand<UpstreamSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, UpstreamSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var server = new LeakyUpstreamServer(new IPEndPoint(IPAddress.Loopback, settings.Port), (int)settings.BufferBytes);
        TextWriter output = Console.Out;
        await output.WriteLineAsync($"{UpstreamProtocol.Listening} {server.LocalEndpoint}");
        await output.FlushAsync(cancellationToken);

        var watchdog = new MemoryBudgetWatchdog(settings.BudgetBytes, () => CreateStatus(server.Counters), output);

        Task serving = server.RunAsync(stop.Token);
        Task watching = watchdog.RunAsync(stop.Token);
        Task reporting = ReportStatusAsync(server.Counters, settings.StatusIntervalValue, output, stop.Token);
        Task parentGone = WaitForStandardInputEndAsync(stop.Token);

        await Task.WhenAny(serving, watching, reporting, parentGone);
        await stop.CancelAsync();
        await IgnoreCancellationAsync(Task.WhenAll(serving, watching, reporting));
        return 0;
    }

    private static async Task ReportStatusAsync(UpstreamCounters counters, TimeSpan interval, TextWriter output, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await output.WriteLineAsync($"{UpstreamProtocol.Status} {UpstreamStatusJson.Serialize(CreateStatus(counters))}");
            await output.FlushAsync(cancellationToken);
        }
    }

    private static UpstreamStatus CreateStatus(UpstreamCounters counters) =>
        new(
            counters.OpenConnections,
            counters.PeakOpenConnections,
            counters.AcceptedConnections,
            counters.RequestsServed,
            GC.GetTotalMemory(forceFullCollection: false),
            Environment.WorkingSet);

    private static async Task WaitForStandardInputEndAsync(CancellationToken cancellationToken)
    {
        using Stream input = Console.OpenStandardInput();
        byte[] buffer = new byte[256];
        while (await input.ReadAsync(buffer, cancellationToken) > 0)
        {
            // LeakLab never writes to this pipe; reading only detects that the parent closed it.
        }
    }

    private static async Task IgnoreCancellationAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            // Expected on shutdown.
        }
    }
}
