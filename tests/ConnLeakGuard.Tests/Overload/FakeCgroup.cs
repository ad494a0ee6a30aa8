using System.Globalization;

namespace ConnLeakGuard.Tests.Overload;

/// <summary>
/// A temporary folder laid out like a cgroup v2 mount with a memory limit, for a guard started with
/// <c>ConnLeakGuard:Overload:CgroupRoot</c> pointing at it. The working set is set as a share of the limit;
/// <c>memory.current</c> also carries a fixed amount of inactive file cache that the guard must subtract.
/// </summary>
internal sealed class FakeCgroup : IDisposable
{
    /// <summary>The limit written to <c>memory.max</c>: 1 GiB.</summary>
    public const long Limit = 1L << 30;

    /// <summary>The reclaimable page cache in <c>memory.stat</c>, included in <c>memory.current</c>: 200 MiB.</summary>
    public const long InactiveFile = 200L << 20;

    public FakeCgroup()
    {
        Root = Directory.CreateTempSubdirectory("connleakguard-cgroup-").FullName;
        WriteAtomically("memory.max", Limit.ToString(CultureInfo.InvariantCulture) + "\n");
        WriteAtomically("memory.stat", $"anon 1048576\nactive_file 4096\ninactive_file {InactiveFile}\n");
        SetWorkingSet(0);
    }

    /// <summary>The folder to pass as the cgroup root.</summary>
    public string Root { get; }

    /// <summary>Sets the working set to <paramref name="share"/> of the limit (0.75 for 75%).</summary>
    public void SetWorkingSet(double share)
    {
        var current = (long)(share * Limit) + InactiveFile;
        WriteAtomically("memory.current", current.ToString(CultureInfo.InvariantCulture) + "\n");
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    // The guard reads the files while the test writes them; a rename never shows a half-written file.
    private void WriteAtomically(string name, string content)
    {
        var temporary = Path.Combine(Root, name + ".tmp");
        File.WriteAllText(temporary, content);
        File.Move(temporary, Path.Combine(Root, name), overwrite: true);
    }
}
