namespace ConnLeakGuard.LeakLab.Lab;

/// <summary>Whether the clients talk to the upstream directly or through the guard.</summary>
internal enum RunMode
{
    Unguarded,
    Guarded,
}
