using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Configuration.Json;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Loads the watched JSON file and reloads it when its content changes. A new file that does not parse is
/// rejected: the previous values stay in force and <see cref="ConfigFileEvents"/> reports the failure.
/// </summary>
/// <remarks>
/// The framework's file provider empties the configuration when a reloaded file fails to parse, which
/// would silently drop every route; this provider never replaces valid data with nothing.
/// </remarks>
internal sealed class WatchedJsonConfigurationProvider : JsonConfigurationProvider
{
    private readonly WatchedJsonConfigurationSource _source;
    private readonly Timer _timer;
    private byte[] _lastHash = [];
    private int _polling;

    public WatchedJsonConfigurationProvider(WatchedJsonConfigurationSource source)
        : base(source)
    {
        _source = source;
        _timer = new Timer(static state => ((WatchedJsonConfigurationProvider)state!).Poll(), this, source.PollInterval, source.PollInterval);
    }

    /// <inheritdoc />
    public override void Load()
    {
        var content = File.ReadAllBytes(_source.FullPath);
        using var stream = new MemoryStream(content, writable: false);
        Load(stream);
        _lastHash = SHA256.HashData(content);
    }

    /// <summary>Compares the file with the last loaded content and reloads it when it differs.</summary>
    internal void Poll()
    {
        if (Interlocked.Exchange(ref _polling, 1) != 0)
        {
            return;
        }

        try
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(_source.FullPath);
            }
            catch (IOException ex)
            {
                // During a ConfigMap swap the file can be briefly missing; the next poll sees the new one.
                ConfigFileEvents.ReportFailure(_source.FullPath, ex.Message);
                return;
            }

            var hash = SHA256.HashData(content);
            if (hash.AsSpan().SequenceEqual(_lastHash))
            {
                return;
            }

            _lastHash = hash;
            if (!TryParse(content, out var error))
            {
                ConfigFileEvents.ReportFailure(_source.FullPath, error);
                return;
            }

            using var stream = new MemoryStream(content, writable: false);
            Load(stream);
            OnReload();
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool TryParse(byte[] content, out string error)
    {
        try
        {
            using var probe = new JsonConfigurationProvider(new JsonConfigurationSource());
            using var stream = new MemoryStream(content, writable: false);
            probe.Load(stream);
            error = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidDataException)
        {
            error = ex.Message;
            return false;
        }
    }
}
