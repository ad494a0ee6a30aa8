namespace ConnLeakGuard.Overload;

/// <summary>
/// Reads the memory signal: the container's working set against its cgroup limit, and the garbage
/// collector's heap against the heap limit it enforces. The reading closer to its limit wins,
/// because either limit ends the process: the kernel kills the container at the cgroup limit, and the
/// runtime throws <see cref="OutOfMemoryException"/> at the heap limit.
/// </summary>
/// <remarks>
/// In a container with a memory limit the runtime sets the heap limit to 75% of it, unless
/// <c>DOTNET_GCHeapHardLimit</c> sets another value. Without any limit the heap is compared with the
/// machine's memory, so outside a container the cgroup reading decides.
/// </remarks>
internal static class MemorySignalReader
{
    /// <summary>Source name of the garbage collector reading, as logged.</summary>
    public const string GcSource = "garbage collector heap";

    /// <summary>Returns the reading closer to its limit; <paramref name="problem"/> names a cgroup read failure.</summary>
    public static SignalReading Read(string cgroupRoot, string procRoot, out string? problem)
    {
        var heap = ReadGcHeap();
        if (!CgroupMemoryReader.TryRead(cgroupRoot, procRoot, out var container, out problem))
        {
            return heap;
        }

        return container.Fraction >= heap.Fraction ? container : heap;
    }

    /// <summary>Returns the heap size after the last garbage collection against the heap limit.</summary>
    /// <remarks>
    /// The heap after a collection is what the collector could not free, so it tracks the memory that
    /// connections hold. Committed memory is not used: it includes the allocation budget of the youngest
    /// generation, which the collector keeps close to the limit under load without any risk of running out.
    /// Before the first collection the heap size is 0.
    /// </remarks>
    public static SignalReading ReadGcHeap()
    {
        var info = GC.GetGCMemoryInfo();
        return new SignalReading(info.HeapSizeBytes, info.TotalAvailableMemoryBytes, GcSource);
    }
}
