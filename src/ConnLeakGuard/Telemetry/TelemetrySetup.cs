using ConnLeakGuard.Admin;
using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serilog;
using Serilog.Formatting.Compact;

namespace ConnLeakGuard.Telemetry;

/// <summary>Registers logging (Serilog), metrics (OpenTelemetry with the Prometheus exporter) and tracing.</summary>
internal static class TelemetrySetup
{
    /// <summary>Meters exported on <c>/metrics</c> besides the guard's own.</summary>
    public static readonly string[] BuiltInMeters =
    [
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Http.Connections",
        "System.Net.Http",
        "System.Net.NameResolution",
        "System.Runtime",
    ];

    /// <summary>Adds logging, metrics and tracing.</summary>
    public static WebApplicationBuilder AddGuardTelemetry(this WebApplicationBuilder builder, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);

        // The guard owns standard output unless the operator configured Serilog sinks of their own.
        var ownOutput = !builder.Configuration.GetSection("Serilog:WriteTo").Exists();
        var completionLog = new CompletionLogWriter(
            Console.OpenStandardOutput(), options.LogQueueCapacity, enabled: ownOutput && options.LogFormat == LogFormat.Json);
        builder.Services.AddSingleton(completionLog);
        builder.Services.AddHostedService(services => services.GetRequiredService<CompletionLogWriter>());

        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration)
                .Enrich.FromLogContext()
                .Enrich.With<RequestPathRemover>();

            if (ownOutput)
            {
                // Formatting and the write to standard output run on a background thread, so a slow log
                // reader delays log lines, never requests. Disposing the logger at shutdown flushes the queue.
                logger.WriteTo.Async(
                    sink => _ = options.LogFormat == LogFormat.Text
                        ? sink.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture, syncRoot: completionLog.ConsoleLock)
                        : sink.Console(new RenderedCompactJsonFormatter(), syncRoot: completionLog.ConsoleLock),
                    bufferSize: options.LogQueueCapacity,
                    blockWhenFull: false,
                    monitor: services.GetRequiredService<LogQueueMonitor>());
            }
        });

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GuardMetrics>();
        builder.Services.AddSingleton<LogQueueMonitor>();
        builder.Services.AddSingleton<LimitEventLog>();
        builder.Services.AddSingleton<KestrelCloseReasonBridge>();
        builder.Services.AddSingleton<ForwarderMetrics>();
        builder.Services.AddSingleton<HttpClientRequestListener>();
        builder.Services.AddHostedService<GuardStopLog>();
        builder.Services.AddGuardHealth();

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("connleakguard"))
            .WithMetrics(metrics => metrics
                .AddMeter(GuardMetrics.MeterName)
                .AddMeter(BuiltInMeters)
                .AddRuntimeInstrumentation()
                .AddProcessInstrumentation()
                .AddPrometheusExporter());

        // Traces leave the process only when an OTLP endpoint is configured; W3C traceparent propagation to
        // the upstream happens in any case through HttpClient's built-in propagator.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>Starts the listeners that feed the guard's meter from Kestrel, YARP and HttpClient.</summary>
    public static WebApplication StartGuardTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.Services.GetRequiredService<KestrelCloseReasonBridge>();
        app.Services.GetRequiredService<HttpClientRequestListener>();
        return app;
    }
}
