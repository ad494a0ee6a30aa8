using System.Globalization;
using System.IO.Enumeration;

namespace ConnLeakGuard.Overload;

/// <summary>
/// Reads the descriptor signal: the entries of <c>/proc/self/fd</c> against the soft <c>RLIMIT_NOFILE</c>
/// limit in <c>/proc/self/limits</c> ("Max open files"), the limit at which <c>accept</c> and <c>connect</c>
/// fail with EMFILE.
/// </summary>
internal static class FileDescriptorReader
{
    private const string LimitLabel = "Max open files";

    // On Unix an IOException carries the errno as its HResult. EMFILE means the process is at its limit,
    // and ENFILE means the whole system is.
    private const int OutOfDescriptors = 24;
    private const int SystemOutOfDescriptors = 23;

    /// <summary>
    /// Reads the open descriptors against the soft limit. Returns false with a null
    /// <paramref name="problem"/> when the limit is "unlimited", and with a problem when procfs cannot be read.
    /// </summary>
    /// <param name="procRoot">Mount point of procfs.</param>
    /// <param name="knownLimit">
    /// The limit of the previous reading, if any. When procfs cannot be opened because the process is out of
    /// descriptors, the reading is this limit fully used rather than a problem.
    /// </param>
    /// <param name="reading">The reading, when the method returns true.</param>
    /// <param name="problem">Why the descriptors could not be read, or null.</param>
    public static bool TryRead(string procRoot, long? knownLimit, out SignalReading reading, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(procRoot);

        reading = default;
        problem = null;
        var self = Path.Combine(procRoot, "self");

        try
        {
            var limit = ReadSoftLimit(Path.Combine(self, "limits"));
            if (limit is null)
            {
                return false;
            }

            var open = CountEntries(Path.Combine(self, "fd"));
            reading = new SignalReading(open, limit.Value, $"{self}/fd");
            return true;
        }
        catch (IOException ex) when (ex.HResult is OutOfDescriptors or SystemOutOfDescriptors && knownLimit is { } limit)
        {
            reading = new SignalReading(limit, limit, $"{self}/fd (no descriptor left to read it)");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            problem = ex.Message;
            return false;
        }
    }

    // The line is "Max open files  <soft>  <hard>  files", and a limit may be "unlimited".
    private static long? ReadSoftLimit(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith(LimitLabel, StringComparison.Ordinal))
            {
                continue;
            }

            var soft = line[LimitLabel.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return soft == "unlimited" ? null : long.Parse(soft, CultureInfo.InvariantCulture);
        }

        throw new FormatException($"'{LimitLabel}' not found in {path}");
    }

    // Counts without allocating a string per entry: a guard with 10,000 connections has 10,000 entries.
    // The count includes the descriptor of the listing itself, one more than the guard has open.
    private static int CountEntries(string directory)
    {
        var entries = new FileSystemEnumerable<byte>(
            directory,
            static (ref FileSystemEntry _) => 0,
            new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false });

        var count = 0;
        foreach (var _ in entries)
        {
            count++;
        }

        return count;
    }
}
