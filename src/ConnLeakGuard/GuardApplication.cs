using ConnLeakGuard.Admin;
using ConnLeakGuard.Configuration;
using ConnLeakGuard.Inbound;
using ConnLeakGuard.Lifecycle;
using ConnLeakGuard.Outbound;
using ConnLeakGuard.Overload;
using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ConnLeakGuard;

/// <summary>
/// The composition root: one line per concern. <c>Program.cs</c> and the tests build the guard through it,
/// so the tests run exactly what ships.
/// </summary>
internal static class GuardApplication
{
    /// <summary>Creates the builder with the guard's configuration sources.</summary>
    public static WebApplicationBuilder CreateBuilder(GuardCommandLine commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. commandLine.ConfigurationArgs],
            ContentRootPath = AppContext.BaseDirectory,
        });
        GuardConfigurationSources.Apply(builder.Configuration, commandLine);
        return builder;
    }

    /// <summary>Registers every concern and builds the application from validated <paramref name="options"/>.</summary>
    public static WebApplication Build(WebApplicationBuilder builder, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        builder.AddGuardConfiguration(options);
        builder.AddGuardTelemetry(options);
        builder.AddGuardInbound(options);
        builder.AddGuardOutbound();
        builder.AddGuardOverload(options);
        builder.AddGuardLifecycle(options);

        var app = builder.Build();
        app.UseGuardAdmin();
        app.MapGuardProxy();
        app.StartGuardTelemetry();
        return app;
    }
}
