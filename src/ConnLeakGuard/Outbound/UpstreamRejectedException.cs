namespace ConnLeakGuard.Outbound;

/// <summary>
/// Thrown by <see cref="OutboundAdmissionHandler"/> when a request cannot get a connection (the wait queue
/// is full or its deadline passed) or its upstream deadline expires; <see cref="UpstreamErrorMiddleware"/>
/// turns it into the status the client sees.
/// </summary>
internal sealed class UpstreamRejectedException : Exception
{
    public UpstreamRejectedException()
    {
        Kind = UpstreamFailureKinds.Other;
    }

    public UpstreamRejectedException(string message)
        : base(message)
    {
        Kind = UpstreamFailureKinds.Other;
    }

    public UpstreamRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = UpstreamFailureKinds.Other;
    }

    public UpstreamRejectedException(string kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public UpstreamRejectedException(string kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>One of <see cref="UpstreamFailureKinds"/>.</summary>
    public string Kind { get; }
}
