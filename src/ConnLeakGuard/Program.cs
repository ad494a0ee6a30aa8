// ConnLeakGuard: a reverse proxy that puts a finite limit on every connection into and out of the app
// behind it. The steps below are the whole start-up; each concern lives in its own folder.
using ConnLeakGuard;
using ConnLeakGuard.Configuration;

// 1. Command line: --config, --listen, --upstream, --check-config, --help.
var commandLine = GuardCommandLine.Parse(args);
if (commandLine.Error is not null)
{
    await Console.Error.WriteLineAsync(commandLine.Error);
    return ExitCodes.InvalidConfiguration;
}

if (commandLine.Help)
{
    await Console.Out.WriteLineAsync(GuardCommandLine.Usage);
    return ExitCodes.Success;
}

// 2. --check-config: validate, print the effective limits, exit.
if (commandLine.CheckConfig)
{
    return await ConfigCheckCommand.RunAsync(commandLine, Console.Out, Console.Error);
}

// 3. Configuration: every invalid value is one line on standard error, and the guard does not start.
var builder = GuardApplication.CreateBuilder(commandLine);
var options = GuardOptionsLoader.Load(builder.Configuration, out var problems);
var proxyProblems = await ProxyConfigValidation.ValidateAsync(GuardOptionsLoader.GetProxySection(builder.Configuration));
if (problems.Count > 0 || proxyProblems.Count > 0)
{
    foreach (var problem in problems.Concat(proxyProblems))
    {
        await Console.Error.WriteLineAsync($"Invalid configuration: {problem}");
    }

    return ExitCodes.InvalidConfiguration;
}

// 4. Inbound limits, outbound pool, telemetry, admin endpoints, drain: see GuardApplication.
var app = GuardApplication.Build(builder, options);
try
{
    await app.RunAsync();
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // A port conflict is a deployment problem, not a crash, so it gets one line and no stack trace.
    await Console.Error.WriteLineAsync(
        $"Failed to start: {ex.Message} Stop the process that uses the port, or choose another port in ConnLeakGuard:Inbound:Urls or ConnLeakGuard:Admin:Urls.");
    return ExitCodes.ListenFailed;
}

return ExitCodes.Success;
