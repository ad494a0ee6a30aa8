using System.Net;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ConnLeakGuard.Tests.Telemetry;

/// <summary>
/// The guard built through <see cref="GuardApplication"/> inside the test process, for tests that need its
/// services (readiness sources) rather than only its sockets. Both listeners bind to 127.0.0.1 port 0.
/// </summary>
internal sealed class InProcessGuard : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private InProcessGuard(WebApplication app, string directory)
    {
        _app = app;
        _directory = directory;
    }

    /// <summary>The application's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Base address of the admin listener.</summary>
    public Uri AdminUri { get; private set; } = null!;

    /// <summary>Starts the guard in front of <paramref name="upstream"/>.</summary>
    public static async Task<InProcessGuard> StartAsync(Uri upstream)
    {
        var directory = Directory.CreateTempSubdirectory("connleakguard-inproc-").FullName;
        var configPath = Path.Combine(directory, "appsettings.json");
        await File.WriteAllTextAsync(configPath, GuardProcess.BuildConfig(upstream));

        var commandLine = GuardCommandLine.Parse(["--config", configPath, "--Serilog:MinimumLevel:Default=Warning"]);
        var builder = GuardApplication.CreateBuilder(commandLine);
        var options = GuardOptionsLoader.Load(builder.Configuration, out var problems);
        Assert.Empty(problems);

        var app = GuardApplication.Build(builder, options);
        await app.StartAsync();

        var guard = new InProcessGuard(app, directory);
        IPEndPoint admin = app.Services.GetRequiredService<ListenerEndpoints>().Admin[0];
        guard.AdminUri = new Uri($"http://{admin}");
        return guard;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }
}
