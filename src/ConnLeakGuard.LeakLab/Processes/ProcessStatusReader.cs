using System.Globalization;

namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>Reads <c>/proc/PID/status</c> (Linux only).</summary>
internal static class ProcessStatusReader
{
    /// <summary>Reads the status of <paramref name="processId"/>, or returns null when the process is gone.</summary>
    public static ProcessStatus? TryRead(int processId)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{processId}/status"));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        long resident = -1;
        long peakResident = -1;
        int threads = -1;
        foreach (string line in lines)
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                resident = ParseKibibytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peakResident = ParseKibibytes(line);
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line.AsSpan("Threads:".Length).Trim(), CultureInfo.InvariantCulture);
            }
        }

        // A zombie (exited, not yet reaped) has no VmRSS line: report it as gone.
        if (resident < 0 || threads < 0)
        {
            return null;
        }

        return new ProcessStatus(resident, Math.Max(peakResident, resident), threads);
    }

    // Lines look like "VmRSS:\t  123456 kB".
    private static long ParseKibibytes(string line)
    {
        ReadOnlySpan<char> value = line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim();
        int space = value.IndexOf(' ');
        if (space >= 0)
        {
            value = value[..space];
        }

        return long.Parse(value, CultureInfo.InvariantCulture) * 1024;
    }
}
