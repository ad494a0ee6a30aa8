namespace ConnLeakGuard.Admin;

/// <summary>The response body of <c>POST /debug/connections/{id}/close</c>.</summary>
/// <param name="Id">The connection id from the request path.</param>
/// <param name="Side"><c>inbound</c> or <c>outbound</c>.</param>
/// <param name="Action">
/// <c>close_requested</c> (graceful close started), <c>aborted</c> (closed at once), or <c>already_closing</c>
/// (a close had already started, by the guard's limits or an earlier admin request).
/// </param>
internal sealed record CloseResult(string Id, string Side, string Action);
