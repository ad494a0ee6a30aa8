using System.Globalization;

namespace ConnLeakGuard.Overload;

/// <summary>
/// Reads the container's memory limit and working set from the cgroup file system, version 2 first and
/// version 1 second. The working set is usage minus <c>inactive_file</c>, the page cache the kernel can
/// reclaim without killing anything. The kubelet computes the same value for its memory eviction.
/// </summary>
/// <remarks>
/// The process's own cgroup is looked up in <c>/proc/self/cgroup</c>, which finds the limit both with a
/// cgroup namespace (the path is <c>/</c>, the usual case in Kubernetes) and without one.
/// NOTE: only that one cgroup is read; a lower limit set on a parent cgroup (the pod's) is not seen.
/// </remarks>
internal static class CgroupMemoryReader
{
    // cgroup v1 reports "no limit" as long.MaxValue rounded down to a page, so any value above 2^62 bytes
    // (4 EiB) means no limit.
    private const long UnlimitedThreshold = 1L << 62;

    /// <summary>
    /// Reads the working set against the memory limit. Returns false with a null <paramref name="problem"/>
    /// when no cgroup sets a limit, and false with a problem when the files exist but cannot be read.
    /// </summary>
    public static bool TryRead(string cgroupRoot, string procRoot, out SignalReading reading, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(cgroupRoot);
        ArgumentNullException.ThrowIfNull(procRoot);

        reading = default;
        problem = null;
        var (v2Path, v1Path) = ReadOwnCgroupPaths(procRoot);

        try
        {
            if (FindDirectory(cgroupRoot, v2Path, "memory.max") is { } v2)
            {
                return TryReadFiles(v2, "memory.max", "memory.current", "inactive_file", "cgroup v2", out reading);
            }

            var v1Root = Path.Combine(cgroupRoot, "memory");
            if (FindDirectory(v1Root, v1Path, "memory.limit_in_bytes") is { } v1)
            {
                // total_inactive_file includes child cgroups, as memory.usage_in_bytes does.
                return TryReadFiles(v1, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file", "cgroup v1", out reading);
            }

            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            problem = ex.Message;
            return false;
        }
    }

    private static bool TryReadFiles(string directory, string limitFile, string usageFile, string inactiveKey, string version, out SignalReading reading)
    {
        reading = default;

        var limitText = File.ReadAllText(Path.Combine(directory, limitFile)).Trim();
        if (limitText == "max")
        {
            return false;
        }

        var limit = long.Parse(limitText, CultureInfo.InvariantCulture);
        if (limit >= UnlimitedThreshold)
        {
            return false;
        }

        var usage = long.Parse(File.ReadAllText(Path.Combine(directory, usageFile)).Trim(), CultureInfo.InvariantCulture);
        var inactive = ReadStat(Path.Combine(directory, "memory.stat"), inactiveKey);
        var workingSet = Math.Max(0, usage - inactive);

        reading = new SignalReading(workingSet, limit, $"{version} {directory}");
        return true;
    }

    // Returns the value of one key of memory.stat, or 0 when the file or the key is missing. The working
    // set is then the raw usage, which overstates it and errs towards shedding early.
    private static long ReadStat(string path, string key)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        long? fallback = null;
        foreach (var line in File.ReadLines(path))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0)
            {
                continue;
            }

            var name = line.AsSpan(0, space);
            if (name.SequenceEqual(key))
            {
                return long.Parse(line.AsSpan(space + 1).Trim(), CultureInfo.InvariantCulture);
            }

            // cgroup v1 files of a cgroup without children may lack the total_ form.
            if (key.StartsWith("total_", StringComparison.Ordinal) && name.SequenceEqual(key.AsSpan("total_".Length)))
            {
                fallback = long.Parse(line.AsSpan(space + 1).Trim(), CultureInfo.InvariantCulture);
            }
        }

        return fallback ?? 0;
    }

    // Prefers the process's own cgroup below the mount point, then the mount point itself.
    private static string? FindDirectory(string mountPoint, string? ownPath, string probeFile)
    {
        if (ownPath is not null && ownPath != "/")
        {
            var own = Path.Join(mountPoint, ownPath);
            if (File.Exists(Path.Combine(own, probeFile)))
            {
                return own;
            }
        }

        return File.Exists(Path.Combine(mountPoint, probeFile)) ? mountPoint : null;
    }

    // Each line of /proc/self/cgroup is "hierarchy-id:controllers:path". Version 2 has the id 0 and no
    // controllers, and the version 1 memory hierarchy lists "memory" among its controllers.
    private static (string? V2Path, string? V1Path) ReadOwnCgroupPaths(string procRoot)
    {
        string? v2 = null;
        string? v1 = null;

        try
        {
            var path = Path.Combine(procRoot, "self", "cgroup");
            if (!File.Exists(path))
            {
                return (null, null);
            }

            foreach (var line in File.ReadLines(path))
            {
                var parts = line.Split(':', 3);
                if (parts.Length != 3)
                {
                    continue;
                }

                if (parts[0] == "0" && parts[1].Length == 0)
                {
                    v2 = parts[2];
                }
                else if (parts[1].Split(',').Contains("memory", StringComparer.Ordinal))
                {
                    v1 = parts[2];
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Without the own path, the mount point itself is read, which is right inside a cgroup namespace.
        }

        return (v2, v1);
    }
}
