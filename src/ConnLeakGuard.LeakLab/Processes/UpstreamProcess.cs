using System.Diagnostics;
using System.Globalization;
using ConnLeakGuard.LeakLab.Upstream;

namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>
/// The leaky upstream running as a child process: started with the hidden <c>upstream</c> command,
/// watched through its status lines, and killed when the run ends unless its budget killed it first.
/// </summary>
internal sealed class UpstreamProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly RunClock _clock;
    private readonly ChildLog _log;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ChildExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile UpstreamStatus? _latestStatus;
    private volatile UpstreamStatus? _budgetExceeded;
    private int _peakReportedConnections;

    private UpstreamProcess(Process process, RunClock clock, ChildLog log)
    {
        _process = process;
        _clock = clock;
        _log = log;
    }

    public int ProcessId => _process.Id;

    /// <summary>The most recent status line, or null before the first one.</summary>
    public UpstreamStatus? LatestStatus => _latestStatus;

    /// <summary>The status written just before the budget kill, or null while the budget holds.</summary>
    public UpstreamStatus? BudgetExceeded => _budgetExceeded;

    /// <summary>The highest <see cref="UpstreamStatus.PeakOpenConnections"/> reported so far.</summary>
    public int PeakReportedConnections => Volatile.Read(ref _peakReportedConnections);

    /// <summary>The exit, or null while the process runs.</summary>
    public ChildExit? Exit => _exited.Task.IsCompleted ? _exited.Task.Result : null;

    public static async Task<UpstreamProcess> StartAsync(
        int port, long bufferBytes, long budgetBytes, string logPath, RunClock clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clock);

        ProcessStartInfo startInfo = SelfLauncher.Create(
        [
            "upstream",
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--buffer", bufferBytes.ToString(CultureInfo.InvariantCulture),
            "--budget", budgetBytes.ToString(CultureInfo.InvariantCulture),
        ]);
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var upstream = new UpstreamProcess(process, clock, new ChildLog(logPath));
        process.OutputDataReceived += (_, line) => upstream.OnOutputLine(line.Data);
        process.ErrorDataReceived += (_, line) => upstream._log.Write("stderr", line.Data);
        process.Exited += (_, _) => upstream.OnExited();

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        Task started = await Task.WhenAny(upstream._listening.Task, upstream._exited.Task, Task.Delay(Timeout.Infinite, timeout.Token));
        if (started != upstream._listening.Task)
        {
            string reason = upstream._exited.Task.IsCompleted
                ? string.Create(CultureInfo.InvariantCulture, $"exited with code {upstream._exited.Task.Result.ExitCode}")
                : string.Create(CultureInfo.InvariantCulture, $"did not report {UpstreamProtocol.Listening} within {StartTimeout.TotalSeconds:0} s");
            await upstream.DisposeAsync();
            throw new InvalidOperationException($"The upstream on port {port} {reason}; see {logPath}.");
        }

        return upstream;
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

    private void OnOutputLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith(UpstreamProtocol.Status + " ", StringComparison.Ordinal))
        {
            UpstreamStatus? status = UpstreamStatusJson.Deserialize(line[(UpstreamProtocol.Status.Length + 1)..]);
            _latestStatus = status;
            RaisePeak(status);
            return;
        }

        _log.Write("stdout", line);
        if (line.StartsWith(UpstreamProtocol.BudgetExceeded + " ", StringComparison.Ordinal))
        {
            _budgetExceeded = UpstreamStatusJson.Deserialize(line[(UpstreamProtocol.BudgetExceeded.Length + 1)..]);
            RaisePeak(_budgetExceeded);
        }
        else if (line.StartsWith(UpstreamProtocol.Listening + " ", StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
    }

    // Output lines arrive on one thread at a time, so a plain read-compare-write is safe here.
    private void RaisePeak(UpstreamStatus? status)
    {
        if (status is not null && status.PeakOpenConnections > _peakReportedConnections)
        {
            Volatile.Write(ref _peakReportedConnections, status.PeakOpenConnections);
        }
    }

    private void OnExited()
    {
        double at = _clock.ElapsedSeconds;
        int exitCode = _process.ExitCode;
        _log.Write("exit", string.Create(CultureInfo.InvariantCulture, $"code {exitCode} at {at:0.0} s"));
        _exited.TrySetResult(new ChildExit(exitCode, at));
    }
}
