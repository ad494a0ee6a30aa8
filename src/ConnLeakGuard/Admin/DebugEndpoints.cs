using ConnLeakGuard.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Admin;

/// <summary>
/// The connection table on the admin listener: <c>GET /debug/connections</c>, <c>GET /debug/leaks</c> and
/// <c>POST /debug/connections/{id}/close</c>.
/// </summary>
internal static class DebugEndpoints
{
    /// <summary>Maps the endpoints onto the admin branch's routes.</summary>
    public static IEndpointRouteBuilder MapDebugEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        endpoints.MapGet("/debug/connections", GetConnectionsAsync);
        endpoints.MapGet("/debug/leaks", GetLeaksAsync);
        endpoints.MapPost("/debug/connections/{id}/close", CloseAsync);
        return endpoints;
    }

    private static Task GetConnectionsAsync(HttpContext context)
    {
        if (!ConnectionQuery.TryParse(context.Request.Query, out var query, out var error))
        {
            return WriteErrorAsync(context, StatusCodes.Status400BadRequest, error!);
        }

        var table = context.RequestServices.GetRequiredService<ConnectionTable>();
        return WriteReportAsync(context, ConnectionReport.Build(table.Capture(), query), query);
    }

    private static Task GetLeaksAsync(HttpContext context)
    {
        if (!ConnectionQuery.TryParse(context.Request.Query, out var query, out var error))
        {
            return WriteErrorAsync(context, StatusCodes.Status400BadRequest, error!);
        }

        var table = context.RequestServices.GetRequiredService<ConnectionTable>();
        var thresholds = context.RequestServices.GetRequiredService<IOptionsMonitor<GuardOptions>>().CurrentValue.LeakDetection;
        var report = ConnectionReport.Build(
            table.CaptureSuspects(thresholds),
            query,
            thresholds.StalledThreshold.TotalSeconds,
            thresholds.AgeThreshold.TotalSeconds);
        return WriteReportAsync(context, report, query);
    }

    private static Task CloseAsync(HttpContext context)
    {
        var client = context.Connection.RemoteIpAddress;
        if (!context.RequestServices.GetRequiredService<RemoteActionGate>().Allows(client))
        {
            context.RequestServices.GetRequiredService<AdminEventLog>().ActionRejected(context.Request.Path, client);
            return WriteErrorAsync(context, StatusCodes.Status403Forbidden,
                $"Closing connections is allowed only from loopback clients, and this request came from {client}; set ConnLeakGuard:Admin:AllowRemoteActions to true to allow it from other addresses.");
        }

        var abortText = context.Request.Query["abort"].ToString();
        var abort = false;
        if (abortText.Length > 0 && !bool.TryParse(abortText, out abort))
        {
            return WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"Invalid query parameter abort='{abortText}': expected 'true' or 'false'.");
        }

        var id = (string)context.Request.RouteValues["id"]!;
        var closer = context.RequestServices.GetRequiredService<AdminConnectionCloser>();
        if (closer.Close(id, abort, client) is not { } result)
        {
            return WriteErrorAsync(context, StatusCodes.Status404NotFound,
                $"No open connection has id '{id}'; it may have closed already. GET /debug/connections lists the open ones.");
        }

        // A graceful close completes later, after the current response or the grace period.
        context.Response.StatusCode = result.Action == "close_requested" ? StatusCodes.Status202Accepted : StatusCodes.Status200OK;
        return context.Response.WriteAsJsonAsync(result, AdminJsonContext.Default.CloseResult, cancellationToken: context.RequestAborted);
    }

    private static Task WriteReportAsync(HttpContext context, ConnectionReport report, ConnectionQuery query)
    {
        if (query.Text)
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(ConnectionTextFormatter.Format(report), context.RequestAborted);
        }

        return context.Response.WriteAsJsonAsync(report, AdminJsonContext.Default.ConnectionReport, cancellationToken: context.RequestAborted);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
