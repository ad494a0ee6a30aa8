using System.Diagnostics;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>Locates the guard built by the project reference and starts it with <c>dotnet</c>.</summary>
public static class GuardBinary
{
    /// <summary>Path of ConnLeakGuard.dll built in the same configuration as the tests.</summary>
    public static string DllPath { get; } = FindDll();

    /// <summary>Creates (does not start) a process running the guard with <paramref name="arguments"/>, the first being the dll.</summary>
    public static Process CreateProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Keep the child's own configuration independent of the test runner's environment.
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        return new Process { StartInfo = start };
    }

    /// <summary>Runs the guard to completion (for <c>--check-config</c> and invalid configurations).</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        using var process = CreateProcess([DllPath, .. arguments]);
        process.Start();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    private static string FindDll()
    {
        // Tests run from tests/ConnLeakGuard.Tests/bin/<Configuration>/net10.0; the guard builds into src/.
        var testDirectory = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testDirectory.Parent!.Name;
        var root = testDirectory;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ConnLeakGuard.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"ConnLeakGuard.sln not found above {AppContext.BaseDirectory}");
        }

        var dll = Path.Combine(root.FullName, "src", "ConnLeakGuard", "bin", configuration, "net10.0", "ConnLeakGuard.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the guard first: dotnet build", dll);
    }
}
