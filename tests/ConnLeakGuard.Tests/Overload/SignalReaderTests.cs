using ConnLeakGuard.Overload;

namespace ConnLeakGuard.Tests.Overload;

public sealed class SignalReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("connleakguard-signals-").FullName;

    private string CgroupRoot => Path.Combine(_root, "cgroup");

    private string ProcRoot => Path.Combine(_root, "proc");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CgroupV2_SubtractsInactiveFile()
    {
        Write(CgroupRoot, "memory.max", "1000000\n");
        Write(CgroupRoot, "memory.current", "800000\n");
        Write(CgroupRoot, "memory.stat", "anon 500000\nfile 300000\nactive_file 100000\ninactive_file 200000\n");

        var found = CgroupMemoryReader.TryRead(CgroupRoot, ProcRoot, out var reading, out var problem);

        Assert.True(found);
        Assert.Null(problem);
        Assert.Equal(600_000, reading.Used);
        Assert.Equal(1_000_000, reading.Limit);
        Assert.StartsWith("cgroup v2", reading.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void CgroupV2_MaxMeansNoLimit()
    {
        Write(CgroupRoot, "memory.max", "max\n");
        Write(CgroupRoot, "memory.current", "800000\n");

        var found = CgroupMemoryReader.TryRead(CgroupRoot, ProcRoot, out _, out var problem);

        Assert.False(found);
        Assert.Null(problem);
    }

    [Fact]
    public void CgroupV2_PrefersOwnCgroupFromProc()
    {
        Write(CgroupRoot, "memory.max", "max\n");
        var own = Path.Combine(CgroupRoot, "kubepods", "pod1", "guard");
        Write(own, "memory.max", "2000\n");
        Write(own, "memory.current", "1500\n");
        Write(Path.Combine(ProcRoot, "self"), "cgroup", "0::/kubepods/pod1/guard\n");

        var found = CgroupMemoryReader.TryRead(CgroupRoot, ProcRoot, out var reading, out _);

        Assert.True(found);
        Assert.Equal(1500, reading.Used);
        Assert.Equal(2000, reading.Limit);
    }

    [Fact]
    public void CgroupV1_SubtractsTotalInactiveFile()
    {
        var memory = Path.Combine(CgroupRoot, "memory");
        Write(memory, "memory.limit_in_bytes", "4000\n");
        Write(memory, "memory.usage_in_bytes", "3000\n");
        Write(memory, "memory.stat", "cache 900\ninactive_file 100\ntotal_inactive_file 500\n");

        var found = CgroupMemoryReader.TryRead(CgroupRoot, ProcRoot, out var reading, out _);

        Assert.True(found);
        Assert.Equal(2500, reading.Used);
        Assert.Equal(4000, reading.Limit);
        Assert.StartsWith("cgroup v1", reading.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void CgroupV1_HugeLimitMeansNoLimit()
    {
        var memory = Path.Combine(CgroupRoot, "memory");
        Write(memory, "memory.limit_in_bytes", "9223372036854771712\n");
        Write(memory, "memory.usage_in_bytes", "3000\n");

        Assert.False(CgroupMemoryReader.TryRead(CgroupRoot, ProcRoot, out _, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void CgroupGarbage_IsReportedAsProblem()
    {
        Write(CgroupRoot, "memory.max", "1000\n");
        Write(CgroupRoot, "memory.current", "lots\n");

        var found = CgroupMemoryReader.TryRead(CgroupRoot, ProcRoot, out _, out var problem);

        Assert.False(found);
        Assert.NotNull(problem);
    }

    [Fact]
    public void MemorySignal_WithoutCgroupUsesGcHeap()
    {
        var reading = MemorySignalReader.Read(CgroupRoot, ProcRoot, out var problem);

        Assert.Null(problem);
        Assert.Equal(MemorySignalReader.GcSource, reading.Source);
        Assert.True(reading.Limit > 0, "the GC reported no available memory");
    }

    [Fact]
    public void MemorySignal_TakesReadingCloserToLimit()
    {
        Write(CgroupRoot, "memory.max", "1000\n");
        Write(CgroupRoot, "memory.current", "990\n");

        var reading = MemorySignalReader.Read(CgroupRoot, ProcRoot, out _);

        Assert.Equal(990, reading.Used);
        Assert.Equal(1000, reading.Limit);
    }

    [Fact]
    public void Descriptors_CountsEntriesAgainstSoftLimit()
    {
        var self = Path.Combine(ProcRoot, "self");
        Write(self, "limits", """
            Limit                     Soft Limit           Hard Limit           Units
            Max cpu time              unlimited            unlimited            seconds
            Max open files            256                  4096                 files
            Max locked memory         8388608              8388608              bytes
            """);
        for (var fd = 0; fd < 7; fd++)
        {
            Write(Path.Combine(self, "fd"), fd.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Empty);
        }

        var found = FileDescriptorReader.TryRead(ProcRoot, knownLimit: null, out var reading, out var problem);

        Assert.True(found);
        Assert.Null(problem);
        Assert.Equal(7, reading.Used);
        Assert.Equal(256, reading.Limit);
    }

    [Fact]
    public void Descriptors_UnlimitedMeansNoLimit()
    {
        var self = Path.Combine(ProcRoot, "self");
        Write(self, "limits", "Max open files            unlimited            unlimited            files\n");
        Directory.CreateDirectory(Path.Combine(self, "fd"));

        Assert.False(FileDescriptorReader.TryRead(ProcRoot, knownLimit: null, out _, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void Descriptors_MissingProcIsReportedAsProblem()
    {
        Assert.False(FileDescriptorReader.TryRead(ProcRoot, knownLimit: null, out _, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void Descriptors_RealProcessIsReadable()
    {
        var found = FileDescriptorReader.TryRead("/proc", knownLimit: null, out var reading, out var problem);

        Assert.Null(problem);
        Assert.True(found, "this test needs a finite open-files limit");
        Assert.InRange(reading.Used, 3, reading.Limit);
    }

    private static void Write(string directory, string name, string content)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name), content);
    }
}
