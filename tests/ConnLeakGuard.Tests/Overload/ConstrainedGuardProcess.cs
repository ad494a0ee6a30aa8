using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// The real guard binary under a resource limit: extra environment variables (a GC heap limit) and an
/// optional shell command run before it in the same process (<c>ulimit -n 512</c>), through
/// <c>bash -c "... &amp;&amp; exec dotnet ConnLeakGuard.dll ..."</c> so that the process id is the guard's.
/// </summary>
/// <remarks>
/// <see cref="GuardProcess"/> cannot pass environment variables or a shell prefix; this class covers the
/// overload tests until it can.
/// </remarks>
internal sealed class ConstrainedGuardProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<(IPEndPoint Proxy, IPEndPoint Admin)> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ConstrainedGuardProcess(Process process, string directory)
    {
        _process = process;
        _directory = directory;
    }

    /// <summary>The proxy listener.</summary>
    public IPEndPoint ProxyEndPoint { get; private set; } = null!;

    /// <summary>Base address of the admin listener.</summary>
    public Uri AdminUri { get; private set; } = null!;

    /// <summary>The guard's process id (bash replaces itself with the guard).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Every line the guard wrote so far.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts the guard in front of <paramref name="upstream"/> with the configuration overrides in
    /// <paramref name="settings"/>, the variables in <paramref name="environment"/>, and
    /// <paramref name="shellPrefix"/> (for example "ulimit -n 512") run by bash first when given.
    /// </summary>
    public static async Task<ConstrainedGuardProcess> StartAsync(
        Uri upstream,
        IReadOnlyDictionary<string, string> settings,
        IReadOnlyDictionary<string, string>? environment = null,
        string? shellPrefix = null)
    {
        var directory = Directory.CreateTempSubdirectory("connleakguard-constrained-").FullName;
        var configPath = Path.Combine(directory, "appsettings.json");
        await File.WriteAllTextAsync(configPath, GuardProcess.BuildConfig(upstream));

        var arguments = new List<string> { GuardBinary.DllPath, "--config", configPath };
        arguments.AddRange(settings.Select(pair => $"--{pair.Key}={pair.Value}"));

        using var template = GuardBinary.CreateProcess(arguments);
        var start = template.StartInfo;
        if (shellPrefix is not null)
        {
            // "$@" passes the arguments through unchanged, with no quoting by hand.
            var dotnetArguments = start.ArgumentList.ToList();
            start.FileName = "bash";
            start.ArgumentList.Clear();
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"{shellPrefix} && exec dotnet \"$@\"");
            start.ArgumentList.Add("guard");
            dotnetArguments.ForEach(start.ArgumentList.Add);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var guard = new ConstrainedGuardProcess(process, directory);
        process.OutputDataReceived += (_, e) => guard.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => guard.OnLine(e.Data);
        process.Exited += (_, _) => guard._started.TrySetException(new InvalidOperationException(
            $"The guard exited with code {process.ExitCode} before it started:\n{string.Join('\n', guard._lines)}"));

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var (proxy, admin) = await guard._started.Task.WaitAsync(s_startTimeout);
        guard.ProxyEndPoint = proxy;
        guard.AdminUri = new Uri($"http://{admin}");
        return guard;
    }

    /// <summary>Scrapes the admin <c>/metrics</c> endpoint.</summary>
    public async Task<PrometheusScrape> ScrapeAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await client.GetStringAsync(new Uri(AdminUri, "/metrics"));
        return PrometheusScrape.Parse(text);
    }

    /// <summary>Returns the lines that mention <paramref name="text"/>, for failure messages.</summary>
    public string LinesContaining(string text) =>
        string.Join('\n', Lines.Where(line => line.Contains(text, StringComparison.OrdinalIgnoreCase)).Take(20));

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
            Directory.Delete(_directory, recursive: true);
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
        if (!line.StartsWith('{'))
        {
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.TryGetProperty("ProxyEndpoints", out var proxy) && root.TryGetProperty("AdminEndpoints", out var admin))
            {
                _started.TrySetResult((IPEndPoint.Parse(proxy[0].GetString()!), IPEndPoint.Parse(admin[0].GetString()!)));
            }
        }
        catch (JsonException)
        {
            // Not a log event of the guard.
        }
    }
}
