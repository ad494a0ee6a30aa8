using ConnLeakGuard.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Configuration;

/// <summary>Registers the guard's options, reloaded live and always valid.</summary>
internal static class ConfigurationSetup
{
    /// <summary>Registers <see cref="IOptionsMonitor{GuardOptions}"/> starting from the validated <paramref name="initial"/> options.</summary>
    public static WebApplicationBuilder AddGuardConfiguration(this WebApplicationBuilder builder, GuardOptions initial)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(initial);

        builder.Services.AddSingleton(sp => new GuardOptionsMonitor(
            builder.Configuration,
            initial,
            sp.GetRequiredService<ILogger<GuardOptionsMonitor>>(),
            sp.GetRequiredService<GuardMetrics>()));
        builder.Services.AddSingleton<IOptionsMonitor<GuardOptions>>(sp => sp.GetRequiredService<GuardOptionsMonitor>());
        builder.Services.AddHostedService<StartupConfigurationReport>();
        return builder;
    }
}
