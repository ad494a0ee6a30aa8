using System.Diagnostics;

namespace ConnLeakGuard.LeakLab.Processes;

/// <summary>Builds a <see cref="ProcessStartInfo"/> that runs this LeakLab executable again with other arguments.</summary>
internal static class SelfLauncher
{
    public static ProcessStartInfo Create(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);

        string host = Environment.ProcessPath
            ?? throw new InvalidOperationException("The path of the running executable is unknown, so LeakLab cannot start its upstream child.");
        var startInfo = new ProcessStartInfo(host);

        // Started as "dotnet ConnLeakGuard.LeakLab.dll", the host needs the assembly path first;
        // started through the apphost (as "dotnet run" does), it does not.
        string hostName = Path.GetFileNameWithoutExtension(host);
        if (string.Equals(hostName, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            startInfo.ArgumentList.Add(typeof(SelfLauncher).Assembly.Location);
        }

        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }
}
