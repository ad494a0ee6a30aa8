using ConnLeakGuard.LeakLab.Cli;
using Spectre.Console.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, eventArgs) =>
{
    // The first Ctrl+C stops the run cleanly (children killed, partial results written); a second one ends the process.
    if (!cancellation.IsCancellationRequested)
    {
        eventArgs.Cancel = true;
        cancellation.Cancel();
    }
};

var app = new CommandApp<RunCommand>();
app.Configure(config =>
{
    config.SetApplicationName("leaklab");
    config.AddExample("incident");
    config.AddExample("slowloris", "--duration", "40s");
    config.AddExample("incident", "--duration", "12s", "--upstream-budget", "96MiB", "--output", "/tmp/leaklab");
    config.AddCommand<UpstreamCommand>("upstream")
        .WithDescription("Runs the leaky upstream server (started by LeakLab itself).")
        .IsHidden();
});

return await app.RunAsync(args, cancellation.Token);
