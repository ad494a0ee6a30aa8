namespace ConnLeakGuard.Tests.Admin;

/// <summary>One row of the guard's connection table as the tests read it from JSON.</summary>
internal sealed record TableRow(
    string Side,
    string Id,
    string State,
    string? Protocol,
    string? RemoteAddress,
    int? RemotePort,
    int LocalPort,
    string? Cluster,
    string? Destination,
    double AgeSeconds,
    double IdleSeconds,
    double StateSeconds,
    long Requests,
    long BytesRead,
    long BytesWritten,
    string? LeakReason);
