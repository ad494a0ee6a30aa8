using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConnLeakGuard.LeakLab.Cli;

/// <summary>Options of the hidden <c>upstream</c> command that LeakLab starts as its child process.</summary>
internal sealed class UpstreamSettings : CommandSettings
{
    [CommandOption("--port <PORT>")]
    [Description("Loopback TCP port to listen on (127.0.0.1).")]
    public int Port { get; init; }

    [CommandOption("--buffer <SIZE>")]
    [Description("Read buffer allocated per connection and kept until the client closes it, e.g. 64KiB.")]
    [DefaultValue("64KiB")]
    public string Buffer { get; init; } = "64KiB";

    [CommandOption("--budget <SIZE>")]
    [Description("Resident memory budget; crossing it kills the process with SIGKILL (exit code 137), e.g. 256MiB.")]
    [DefaultValue("256MiB")]
    public string Budget { get; init; } = "256MiB";

    [CommandOption("--status-interval <DURATION>")]
    [Description("Interval between status lines on standard output, e.g. 200ms.")]
    [DefaultValue("200ms")]
    public string StatusInterval { get; init; } = "200ms";

    public long BufferBytes => UnitParser.TryParseSize(Buffer, out long bytes) ? bytes : 0;

    public long BudgetBytes => UnitParser.TryParseSize(Budget, out long bytes) ? bytes : 0;

    public TimeSpan StatusIntervalValue => UnitParser.TryParseDuration(StatusInterval, out TimeSpan value) ? value : TimeSpan.Zero;

    public override ValidationResult Validate()
    {
        if (Port is < 1 or > 65535)
        {
            return ValidationResult.Error($"--port {Port} is invalid: give a TCP port between 1 and 65535.");
        }

        if (BufferBytes is < 1024 or > int.MaxValue)
        {
            return ValidationResult.Error($"--buffer '{Buffer}' is invalid: give a size of at least 1KiB, such as 64KiB.");
        }

        if (BudgetBytes <= 0)
        {
            return ValidationResult.Error($"--budget '{Budget}' is invalid: give a size such as 256MiB.");
        }

        if (StatusIntervalValue <= TimeSpan.Zero)
        {
            return ValidationResult.Error($"--status-interval '{StatusInterval}' is invalid: give a duration such as 200ms.");
        }

        return ValidationResult.Success();
    }
}
