using Serilog.Core;
using Serilog.Events;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Removes the <c>RequestPath</c> property that ASP.NET Core's hosting log scope adds to every event logged
/// during a request. A path can carry a credential (a reset token, a signed URL), and the guard logs the
/// route id in its place. <c>RequestId</c> (connection id and request number) is kept.
/// </summary>
internal sealed class RequestPathRemover : ILogEventEnricher
{
    private const string PropertyName = "RequestPath";

    /// <inheritdoc />
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);

        logEvent.RemovePropertyIfPresent(PropertyName);
    }
}
