using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using ConnLeakGuard.LeakLab.Processes;

namespace ConnLeakGuard.LeakLab.Guard;

/// <summary>
/// The real ConnLeakGuard binary running as a child process, started as
/// <c>dotnet ConnLeakGuard.dll --config FILE</c>, with its output written to a log file.
/// </summary>
internal sealed class GuardProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly RunClock _clock;
    private readonly ChildLog _log;
    private readonly TaskCompletionSource<ChildExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GuardProcess(Process process, RunClock clock, ChildLog log)
    {
        _process = process;
        _clock = clock;
        _log = log;
    }

    public int ProcessId => _process.Id;

    /// <summary>The exit, or null while the guard runs.</summary>
    public ChildExit? Exit => _exited.Task.IsCompleted ? _exited.Task.Result : null;

    /// <summary>The guard's last output lines, for error messages.</summary>
    public IReadOnlyList<string> LogTail => _log.Tail;

    /// <summary>
    /// Starts the guard and waits until its inbound port accepts connections and its readiness
    /// endpoint returns 200. Throws with the guard's last output lines when it exits or times out first.
    /// </summary>
    public static async Task<GuardProcess> StartAsync(
        string guardDll, string configPath, GuardEndpoints endpoints, string logPath, RunClock clock, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(guardDll);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(clock);

        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(guardDll)!,
        };
        startInfo.ArgumentList.Add(guardDll);
        startInfo.ArgumentList.Add("--config");
        startInfo.ArgumentList.Add(configPath);

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var guard = new GuardProcess(process, clock, new ChildLog(logPath));
        process.OutputDataReceived += (_, line) => guard._log.Write("stdout", line.Data);
        process.ErrorDataReceived += (_, line) => guard._log.Write("stderr", line.Data);
        process.Exited += (_, _) => guard.OnExited();

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await guard.WaitUntilReadyAsync(endpoints, cancellationToken);
        }
        catch
        {
            await guard.DisposeAsync();
            throw;
        }

        return guard;
    }

    /// <summary>Kills the process unless it has exited, and waits until it has and its output is read. Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (!_exited.Task.IsCompleted)
        {
            _log.Write("leaklab", "the run is over: killing the process (SIGKILL), so the exit below is LeakLab's doing");
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the check and the kill.
            }
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        _log.Dispose();
    }

    private async Task WaitUntilReadyAsync(GuardEndpoints endpoints, CancellationToken cancellationToken)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var readyUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{endpoints.Admin}/healthz/ready"));
        var deadline = Stopwatch.StartNew();
        string lastProblem = "no answer yet";
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (_exited.Task.IsCompleted)
            {
                await _process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException(
                    $"The guard exited with code {_exited.Task.Result.ExitCode} before it was ready. Its last output:{Environment.NewLine}{string.Join(Environment.NewLine, _log.Tail)}");
            }

            try
            {
                using (var client = new TcpClient())
                {
                    await client.ConnectAsync(endpoints.Inbound, cancellationToken);
                }

                using HttpResponseMessage response = await probe.GetAsync(readyUri, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                lastProblem = string.Create(CultureInfo.InvariantCulture, $"{readyUri} returned {(int)response.StatusCode}");
            }
            catch (Exception exception) when (exception is SocketException or HttpRequestException or TaskCanceledException)
            {
                lastProblem = exception.Message;
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException(
            $"The guard was not ready within {ReadyTimeout.TotalSeconds:0} s ({lastProblem}). Its last output:{Environment.NewLine}{string.Join(Environment.NewLine, _log.Tail)}");
    }

    private void OnExited()
    {
        double at = _clock.ElapsedSeconds;
        int exitCode = _process.ExitCode;
        _log.Write("exit", string.Create(CultureInfo.InvariantCulture, $"code {exitCode} at {at:0.0} s"));
        _exited.TrySetResult(new ChildExit(exitCode, at));
    }
}
