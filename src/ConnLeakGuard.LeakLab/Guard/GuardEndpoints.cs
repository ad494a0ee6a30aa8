using System.Net;

namespace ConnLeakGuard.LeakLab.Guard;

/// <summary>Where the guard listens for clients, serves its admin endpoints, and finds the upstream.</summary>
internal sealed record GuardEndpoints(IPEndPoint Inbound, IPEndPoint Admin, IPEndPoint Upstream);
