using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// The JSON configuration file, polled for changes by content rather than by file-system events.
/// </summary>
/// <remarks>
/// A Kubernetes ConfigMap volume updates by swapping a <c>..data</c> symlink: the file the guard opened never
/// changes, so event-based watchers miss the update. Comparing the content every
/// <see cref="PollInterval"/> sees it whatever the layout. The file must exist at start-up: a missing
/// ConfigMap mount is an error, not an empty configuration.
/// </remarks>
internal sealed class WatchedJsonConfigurationSource : JsonConfigurationSource
{
    public WatchedJsonConfigurationSource(string fullPath, TimeSpan pollInterval)
    {
        ArgumentException.ThrowIfNullOrEmpty(fullPath);

        FullPath = fullPath;
        PollInterval = pollInterval;
        Path = fullPath;
        Optional = false;
        ReloadOnChange = false;
    }

    /// <summary>Absolute path of the file, symlinks not resolved (the link is what changes).</summary>
    public string FullPath { get; }

    /// <summary>How often the content is compared; 2 s by default, well under the kubelet's ConfigMap sync period of about a minute.</summary>
    public TimeSpan PollInterval { get; }

    /// <inheritdoc />
    public override IConfigurationProvider Build(IConfigurationBuilder builder) => new WatchedJsonConfigurationProvider(this);
}
