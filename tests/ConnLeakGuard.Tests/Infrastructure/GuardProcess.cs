using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>
/// The real guard binary running as a child process on loopback, with port 0 for both listeners and the
/// settings a test passes as command-line overrides. Its log lines (compact JSON) are kept for assertions.
/// </summary>
public sealed class GuardProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private const string CgroupRootKey = "ConnLeakGuard:Overload:CgroupRoot";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<(IPEndPoint Proxy, IPEndPoint Admin)> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _configDirectory;

    private GuardProcess(Process process, string configDirectory)
    {
        _process = process;
        _configDirectory = configDirectory;
    }

    /// <summary>The proxy listener.</summary>
    public IPEndPoint ProxyEndPoint { get; private set; } = null!;

    /// <summary>The admin listener.</summary>
    public IPEndPoint AdminEndPoint { get; private set; } = null!;

    /// <summary>The child process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The configuration file the guard was started with.</summary>
    public string ConfigPath => Path.Combine(_configDirectory, "appsettings.json");

    /// <summary>Every line the guard wrote to standard output and standard error so far.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Base address of the proxy listener.</summary>
    public Uri ProxyUri => new($"http://{ProxyEndPoint}");

    /// <summary>Base address of the admin listener.</summary>
    public Uri AdminUri => new($"http://{AdminEndPoint}");

    /// <summary>
    /// Starts the guard in front of <paramref name="upstream"/> with <paramref name="settings"/> as
    /// configuration overrides (keys relative to the configuration root, for example
    /// "ConnLeakGuard:Inbound:KeepAliveTimeout").
    /// </summary>
    /// <remarks>
    /// With <paramref name="configPath"/> the guard loads that file as it is, for reload tests.
    /// <paramref name="environment"/> adds variables (a GC heap limit, for example), and
    /// <paramref name="shellPrefix"/> is a shell command that bash runs first in the same process
    /// ("ulimit -n 512"), before it replaces itself with the guard, so <see cref="ProcessId"/> stays the
    /// guard's. Unless a test sets ConnLeakGuard:Overload:CgroupRoot, the guard reads an empty folder
    /// there, so the host's cgroup cannot raise its overload level.
    /// </remarks>
    public static async Task<GuardProcess> StartAsync(
        Uri upstream,
        IReadOnlyDictionary<string, string>? settings = null,
        string? configJson = null,
        string? configPath = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? shellPrefix = null)
    {
        var directory = Directory.CreateTempSubdirectory("connleakguard-test-").FullName;
        if (configPath is null)
        {
            configPath = Path.Combine(directory, "appsettings.json");
            await File.WriteAllTextAsync(configPath, configJson ?? BuildConfig(upstream));
        }

        settings ??= new Dictionary<string, string>();
        var arguments = new List<string> { GuardBinary.DllPath, "--config", configPath };
        if (!settings.ContainsKey(CgroupRootKey))
        {
            arguments.Add($"--{CgroupRootKey}={Directory.CreateDirectory(Path.Combine(directory, "no-cgroup")).FullName}");
        }

        arguments.AddRange(settings.Select(pair => $"--{pair.Key}={pair.Value}"));

        var process = GuardBinary.CreateProcess(arguments);
        if (shellPrefix is not null)
        {
            // "$@" passes the arguments through unchanged, with no quoting by hand.
            var dotnetArguments = process.StartInfo.ArgumentList.ToList();
            process.StartInfo.FileName = "bash";
            process.StartInfo.ArgumentList.Clear();
            process.StartInfo.ArgumentList.Add("-c");
            process.StartInfo.ArgumentList.Add($"{shellPrefix} && exec dotnet \"$@\"");
            process.StartInfo.ArgumentList.Add("guard");
            dotnetArguments.ForEach(process.StartInfo.ArgumentList.Add);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            process.StartInfo.Environment[name] = value;
        }

        var guard = new GuardProcess(process, directory);
        process.OutputDataReceived += (_, e) => guard.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => guard.OnLine(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => guard._started.TrySetException(new InvalidOperationException(
            $"The guard exited with code {process.ExitCode} before it started:\n{string.Join('\n', guard._lines)}"));

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var (proxy, admin) = await guard._started.Task.WaitAsync(s_startTimeout);
        guard.ProxyEndPoint = proxy;
        guard.AdminEndPoint = admin;
        return guard;
    }

    /// <summary>Returns a configuration file with short listeners on port 0 and one route to <paramref name="upstream"/>.</summary>
    public static string BuildConfig(Uri upstream, string? routeMetadataJson = null) => $$"""
        {
          "ConnLeakGuard": {
            "Inbound": { "Urls": "http://127.0.0.1:0" },
            "Admin": { "Urls": "http://127.0.0.1:0" },
            "Shutdown": { "DrainDelay": "0s", "DrainTimeout": "5s" }
          },
          "ReverseProxy": {
            "Routes": {
              "app": { "ClusterId": "app", "Match": { "Path": "{**catch-all}" }{{(routeMetadataJson is null ? "" : ", \"Metadata\": " + routeMetadataJson)}} }
            },
            "Clusters": {
              "app": { "Destinations": { "app": { "Address": "{{upstream}}" } } }
            }
          },
          "Serilog": { "MinimumLevel": { "Default": "Information", "Override": { "Microsoft": "Warning", "Yarp": "Warning", "System": "Warning" } } }
        }
        """;

    /// <summary>Returns the current resident memory of the guard process, in bytes.</summary>
    public long GetResidentBytes() => ProcStatus.ReadResidentBytes(_process.Id);

    /// <summary>Scrapes the admin <c>/metrics</c> endpoint.</summary>
    public async Task<PrometheusScrape> ScrapeAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await client.GetStringAsync(new Uri(AdminUri, "/metrics"));
        return PrometheusScrape.Parse(text);
    }

    /// <summary>Returns up to 20 log lines that mention <paramref name="text"/>, for failure messages.</summary>
    public string LinesContaining(string text) =>
        string.Join('\n', Lines.Where(line => line.Contains(text, StringComparison.OrdinalIgnoreCase)).Take(20));

    /// <summary>Returns the parsed JSON log events whose event name is <paramref name="eventName"/>.</summary>
    public IReadOnlyList<JsonElement> GetLogEvents(string eventName) =>
        [.. Lines.Select(TryParseJson)
            .Where(e => e is { } element && element.TryGetProperty("EventId", out var id) && id.TryGetProperty("Name", out var name) && name.GetString() == eventName)
            .Select(e => e!.Value)];

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a log event named <paramref name="eventName"/>, then
    /// 300 ms more, and returns it; fails unless exactly one arrived. The guard writes log lines from a
    /// background queue, so a line can reach the test after the response it belongs to, and lines written
    /// for one request arrive within milliseconds of each other, so the extra wait exposes duplicates.
    /// </summary>
    public async Task<JsonElement> WaitForSingleLogEventAsync(string eventName, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (GetLogEvents(eventName).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await Task.Delay(300);
        return Assert.Single(GetLogEvents(eventName));
    }

    /// <summary>Sends SIGTERM and waits for the process to exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_configDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        if (TryParseJson(line) is { } json && json.TryGetProperty("ProxyEndpoints", out var proxy) && json.TryGetProperty("AdminEndpoints", out var admin))
        {
            _started.TrySetResult((IPEndPoint.Parse(proxy[0].GetString()!), IPEndPoint.Parse(admin[0].GetString()!)));
        }
    }

    private static JsonElement? TryParseJson(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
