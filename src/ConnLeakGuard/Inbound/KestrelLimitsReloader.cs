using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Applies reloaded inbound limits to Kestrel. Kestrel reads its limits object when a connection or request
/// starts, so new connections and requests get the new values and existing ones keep the values they
/// started with.
/// </summary>
internal sealed class KestrelLimitsReloader : IHostedService
{
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly KestrelServerOptions _kestrel;
    private IDisposable? _subscription;

    public KestrelLimitsReloader(IOptionsMonitor<GuardOptions> options, IOptions<KestrelServerOptions> kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);

        _options = options;
        _kestrel = kestrel.Value;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = _options.OnChange((options, _) => KestrelLimitsSetup.Apply(_kestrel.Limits, options.Inbound));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
