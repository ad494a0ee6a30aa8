using ConnLeakGuard.Configuration;
using ConnLeakGuard.Overload;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Inbound;

/// <summary>
/// Applies reloaded inbound limits to Kestrel, and the overload timeout scale when the overload level
/// crosses Elevated. Kestrel reads its limits object when a connection or request starts, so new
/// connections and requests get the new values and existing ones keep the values they started with.
/// </summary>
internal sealed class KestrelLimitsReloader : IHostedService
{
    private readonly IOptionsMonitor<GuardOptions> _options;
    private readonly KestrelServerOptions _kestrel;
    private readonly OverloadState _overload;
    private readonly Lock _gate = new();
    private IDisposable? _subscription;

    public KestrelLimitsReloader(IOptionsMonitor<GuardOptions> options, IOptions<KestrelServerOptions> kestrel, OverloadState overload)
    {
        ArgumentNullException.ThrowIfNull(kestrel);

        _options = options;
        _kestrel = kestrel.Value;
        _overload = overload;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = _options.OnChange((_, _) => Apply());
        _overload.TimeoutScaleChanged += Apply;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _overload.TimeoutScaleChanged -= Apply;
        _subscription?.Dispose();
        return Task.CompletedTask;
    }

    // A reload and a level change can arrive together on different threads. Each application reads both
    // current values under the lock, so the last one applied is always up to date.
    private void Apply()
    {
        lock (_gate)
        {
            KestrelLimitsSetup.Apply(_kestrel.Limits, _options.CurrentValue.Inbound, _overload.CurrentTimeoutScale);
        }
    }
}
