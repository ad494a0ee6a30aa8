using System.Diagnostics;
using ConnLeakGuard.LeakLab.Processes;

namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>
/// Stands in for a container memory limit: when the process's resident set size crosses the budget,
/// it writes one <see cref="UpstreamProtocol.BudgetExceeded"/> line and kills its own process with
/// SIGKILL, so the parent sees exit code 137 exactly as after a cgroup OOM kill.
/// </summary>
/// <remarks>
/// A cgroup also charges page cache and kernel socket buffers to the container; this budget counts
/// only resident memory (VmRSS), so a real container with the same limit would die somewhat sooner.
/// </remarks>
internal sealed class MemoryBudgetWatchdog
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(50);

    private readonly long _budgetBytes;
    private readonly Func<UpstreamStatus> _statusProvider;
    private readonly TextWriter _output;

    public MemoryBudgetWatchdog(long budgetBytes, Func<UpstreamStatus> statusProvider, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(statusProvider);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);

        _budgetBytes = budgetBytes;
        _statusProvider = statusProvider;
        _output = output;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(CheckInterval);
        int processId = Environment.ProcessId;
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            ProcessStatus? status = ProcessStatusReader.TryRead(processId);
            if (status is null || status.ResidentBytes <= _budgetBytes)
            {
                continue;
            }

            UpstreamStatus report = _statusProvider() with { ResidentBytes = status.ResidentBytes };
            await _output.WriteLineAsync($"{UpstreamProtocol.BudgetExceeded} {UpstreamStatusJson.Serialize(report)}");
            await _output.FlushAsync(cancellationToken);

            using Process self = Process.GetCurrentProcess();
            self.Kill();
        }
    }
}
