namespace ConnLeakGuard.Overload;

/// <summary>The resources whose use decides the overload level.</summary>
internal enum OverloadSignal
{
    /// <summary>Container memory (cgroup working set), or the garbage collector's heap against its limit.</summary>
    Memory,

    /// <summary>Open file descriptors against the open-files limit.</summary>
    FileDescriptors,
}
