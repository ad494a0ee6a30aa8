using Microsoft.Extensions.Options;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Reports the problems found by <see cref="GuardOptionsBinder"/> and the rules that span several settings.
/// Each failure is one line naming the key, the value and the allowed range.
/// </summary>
internal sealed class GuardOptionsValidator : IValidateOptions<GuardOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        var failures = options.Problems.Select(p => p.ToString()).ToList();
        failures.AddRange(CheckCrossSettingRules(options).Select(p => p.ToString()));

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Returns the problems that involve more than one setting.</summary>
    public static IEnumerable<ConfigurationProblem> CheckCrossSettingRules(GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        var inbound = options.Inbound;
        if (inbound.MaxRequestHeaderSize > inbound.MaxRequestHeadersTotalSize)
        {
            yield return new ConfigurationProblem(
                "ConnLeakGuard:Inbound:MaxRequestHeaderSize",
                ByteSizeParser.Format(inbound.MaxRequestHeaderSize),
                $"must not exceed ConnLeakGuard:Inbound:MaxRequestHeadersTotalSize ({ByteSizeParser.Format(inbound.MaxRequestHeadersTotalSize)})");
        }

        foreach (var problem in ListenUrl.Validate("ConnLeakGuard:Inbound:Urls", inbound.Urls))
        {
            yield return problem;
        }

        foreach (var problem in ListenUrl.Validate("ConnLeakGuard:Admin:Urls", options.Admin.Urls))
        {
            yield return problem;
        }

        foreach (var problem in options.Overload.CheckThresholdOrder())
        {
            yield return problem;
        }
    }
}
