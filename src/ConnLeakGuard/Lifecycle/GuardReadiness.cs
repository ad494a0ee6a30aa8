using System.Collections.Concurrent;

namespace ConnLeakGuard.Lifecycle;

/// <summary>
/// Readiness as reported by <c>/healthz/ready</c>: not ready while any source (draining, critical overload)
/// holds a reason, so that Kubernetes stops sending new traffic.
/// </summary>
internal sealed class GuardReadiness
{
    private readonly ConcurrentDictionary<string, string> _reasons = new(StringComparer.Ordinal);

    /// <summary>Whether the guard accepts new traffic.</summary>
    public bool IsReady => _reasons.IsEmpty;

    /// <summary>Why the guard is not ready, or null when it is.</summary>
    public string? Reason => _reasons.IsEmpty ? null : string.Join("; ", _reasons.Values);

    /// <summary>Marks the guard not ready because of <paramref name="source"/>.</summary>
    public void SetNotReady(string source, string reason) => _reasons[source] = reason;

    /// <summary>Withdraws the reason of <paramref name="source"/>.</summary>
    public void SetReady(string source) => _reasons.TryRemove(source, out _);
}
