using System.Collections.Frozen;
using System.Text;
using Yarp.ReverseProxy.Forwarder;

namespace ConnLeakGuard.Telemetry;

/// <summary>
/// Label values for forwarded requests: the <c>error</c> label is YARP's <see cref="ForwarderError"/> name in
/// snake_case, and the <c>outcome</c> label groups those errors by the side that caused them.
/// </summary>
/// <remarks>Both tables are built once from the enum, so a value added by a later YARP version still gets a name.</remarks>
internal static class ForwarderOutcomes
{
    /// <summary>The upstream response was forwarded in full.</summary>
    public const string Success = "success";

    /// <summary>The client failed or went away while its request or the response was being copied.</summary>
    public const string ClientError = "client_error";

    /// <summary>The upstream could not be reached, reset the connection or sent an invalid response.</summary>
    public const string UpstreamError = "upstream_error";

    /// <summary>YARP's activity timeout expired.</summary>
    public const string Timeout = "timeout";

    /// <summary>The request was cancelled: the client aborted it, or a guard deadline cancelled the upstream call.</summary>
    public const string Canceled = "canceled";

    /// <summary>The request never reached the forwarder: the guard rejected it or no route matched.</summary>
    public const string NotForwarded = "not_forwarded";

    private static readonly FrozenDictionary<ForwarderError, string> s_errorNames =
        Enum.GetValues<ForwarderError>().ToFrozenDictionary(error => error, error => ToSnakeCase(error.ToString()));

    private static readonly FrozenDictionary<ForwarderError, string> s_outcomes =
        Enum.GetValues<ForwarderError>().ToFrozenDictionary(error => error, Classify);

    /// <summary>Returns the snake_case name of <paramref name="error"/>, for example <c>request_timed_out</c>.</summary>
    public static string GetErrorName(ForwarderError error) =>
        s_errorNames.TryGetValue(error, out var name) ? name : "unknown";

    /// <summary>Returns the outcome label for a request that the forwarder finished with <paramref name="error"/>.</summary>
    public static string GetOutcome(ForwarderError error) =>
        s_outcomes.TryGetValue(error, out var outcome) ? outcome : UpstreamError;

    private static string Classify(ForwarderError error)
    {
        var name = error.ToString();
        if (error == ForwarderError.None)
        {
            return Success;
        }

        if (name.EndsWith("Canceled", StringComparison.Ordinal))
        {
            return Canceled;
        }

        if (name.Contains("TimedOut", StringComparison.Ordinal) || name.Contains("Timeout", StringComparison.Ordinal))
        {
            return Timeout;
        }

        // RequestBodyClient, ResponseBodyClient and the upgrade variants: the client side of the copy failed.
        // Everything else (Request, ResponseHeaders, *Destination, NoAvailableDestinations, RequestCreation)
        // is on the upstream side or in the proxy's configuration.
        return name.EndsWith("Client", StringComparison.Ordinal) ? ClientError : UpstreamError;
    }

    private static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
