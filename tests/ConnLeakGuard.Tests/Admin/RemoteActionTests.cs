using System.Net;
using ConnLeakGuard.Admin;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Tests.Admin;

/// <summary>
/// <c>ConnLeakGuard:Admin:AllowRemoteActions</c> end to end, in a guard built in the test process whose
/// address check treats every client as remote; the read-only table stays reachable either way.
/// </summary>
public sealed class RemoteActionTests
{
    [Fact]
    public async Task RemoteClient_CloseRejectedWith403ByDefault()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartAsync(upstream.Uri, allowRemoteActions: null);
        using var client = new HttpClient();

        using var close = await client.PostAsync(new Uri(guard.AdminUri, "/debug/connections/some-id/close"), content: null);
        var body = await close.Content.ReadAsStringAsync();
        using var table = await client.GetAsync(new Uri(guard.AdminUri, "/debug/connections"));

        Assert.Equal(HttpStatusCode.Forbidden, close.StatusCode);
        Assert.Contains("ConnLeakGuard:Admin:AllowRemoteActions", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, table.StatusCode);
    }

    [Fact]
    public async Task RemoteClient_CloseAcceptedWhenAllowed()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var guard = await StartAsync(upstream.Uri, allowRemoteActions: "true");
        using var client = new HttpClient();

        // 404 shows that the request passed the gate and reached the lookup of the id.
        using var close = await client.PostAsync(new Uri(guard.AdminUri, "/debug/connections/some-id/close"), content: null);

        Assert.Equal(HttpStatusCode.NotFound, close.StatusCode);
    }

    private static async Task<Host> StartAsync(Uri upstream, string? allowRemoteActions)
    {
        var directory = Directory.CreateTempSubdirectory("connleakguard-admin-").FullName;
        var configPath = Path.Combine(directory, "appsettings.json");
        await File.WriteAllTextAsync(configPath, GuardProcess.BuildConfig(upstream));

        List<string> args = ["--config", configPath, "--Serilog:MinimumLevel:Default=Warning"];
        if (allowRemoteActions is not null)
        {
            args.Add($"--ConnLeakGuard:Admin:AllowRemoteActions={allowRemoteActions}");
        }

        var builder = GuardApplication.CreateBuilder(GuardCommandLine.Parse([.. args]));
        var options = GuardOptionsLoader.Load(builder.Configuration, out var problems);
        Assert.Empty(problems);

        builder.Services.AddSingleton(sp => new RemoteActionGate(sp.GetRequiredService<IOptionsMonitor<GuardOptions>>(), static _ => false));
        var app = GuardApplication.Build(builder, options);
        await app.StartAsync();

        var admin = app.Services.GetRequiredService<ListenerEndpoints>().Admin[0];
        return new Host(app, directory, new Uri($"http://{admin}"));
    }

    // The in-process guard, stopped and its configuration folder deleted on dispose.
    private sealed class Host(WebApplication app, string directory, Uri adminUri) : IAsyncDisposable
    {
        public Uri AdminUri => adminUri;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
