using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Writes a health report as plain text for people and probes: a first line <c>live</c>, <c>ready</c>,
/// <c>not live</c> or <c>not ready</c>, then one line per check with its status and description.
/// Probes read only the status code (200 or 503).
/// </summary>
internal static class HealthResponseWriter
{
    /// <summary>Returns a writer whose first line names <paramref name="probe"/> ("live" or "ready").</summary>
    public static Func<HttpContext, HealthReport, Task> For(string probe)
    {
        ArgumentException.ThrowIfNullOrEmpty(probe);

        return (context, report) => WriteAsync(context, report, probe);
    }

    private static Task WriteAsync(HttpContext context, HealthReport report, string probe)
    {
        var text = new StringBuilder();
        text.Append(report.Status == HealthStatus.Unhealthy ? "not " : string.Empty).Append(probe).Append('\n');
        foreach (var (name, entry) in report.Entries)
        {
            text.Append(name).Append(": ").Append(entry.Status.ToString().ToLowerInvariant());
            if (!string.IsNullOrEmpty(entry.Description))
            {
                text.Append(", ").Append(entry.Description);
            }

            text.Append('\n');
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }
}
