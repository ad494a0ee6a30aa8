using ConnLeakGuard.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Outbound;

/// <summary>
/// The guard-wide outbound defaults as YARP applies a configuration change. The options monitor and YARP
/// react to the same file change in no defined order, so the values are read from the configuration
/// itself; when it is invalid, the monitor's current (last valid) values are used.
/// </summary>
internal sealed class OutboundDefaults
{
    private readonly IConfiguration _configuration;
    private readonly IOptionsMonitor<GuardOptions> _options;

    public OutboundDefaults(IConfiguration configuration, IOptionsMonitor<GuardOptions> options)
    {
        _configuration = configuration;
        _options = options;
    }

    /// <summary>Returns the current defaults.</summary>
    public OutboundOptions Current
    {
        get
        {
            var options = GuardOptionsLoader.Load(_configuration, out var problems);
            return problems.Count == 0 ? options.Outbound : _options.CurrentValue.Outbound;
        }
    }
}
