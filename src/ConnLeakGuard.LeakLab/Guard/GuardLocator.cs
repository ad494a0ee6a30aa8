using System.Diagnostics;

namespace ConnLeakGuard.LeakLab.Guard;

/// <summary>Finds the repository that holds the guard and builds the guard's Release binary.</summary>
internal static class GuardLocator
{
    private const string GuardProject = "src/ConnLeakGuard/ConnLeakGuard.csproj";

    /// <summary>
    /// Returns the repository root: the nearest folder holding ConnLeakGuard.sln and the guard project,
    /// searched upwards from the working directory and then from LeakLab's own folder.
    /// </summary>
    public static string? FindRepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "ConnLeakGuard.sln"))
                    && File.Exists(Path.Combine(directory.FullName, GuardProject)))
                {
                    return directory.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Runs <c>dotnet build src/ConnLeakGuard -c Release</c> and returns the built ConnLeakGuard.dll.
    /// Throws with the build's last lines when the build fails.
    /// </summary>
    public static async Task<string> BuildReleaseAsync(string repositoryRoot, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(repositoryRoot);

        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = repositoryRoot,
        };
        foreach (string argument in new[] { "build", GuardProject, "-c", "Release", "--nologo", "-v", "q", "-clp:NoSummary;ErrorsOnly" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using Process build = Process.Start(startInfo)
            ?? throw new InvalidOperationException("'dotnet build' could not be started.");
        Task<string> output = build.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> errors = build.StandardError.ReadToEndAsync(cancellationToken);
        await build.WaitForExitAsync(cancellationToken);

        if (build.ExitCode != 0)
        {
            string[] lines = (await output + await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string tail = string.Join(Environment.NewLine, lines.TakeLast(15));
            throw new InvalidOperationException(
                $"'dotnet build {GuardProject} -c Release' failed with exit code {build.ExitCode}:{Environment.NewLine}{tail}");
        }

        string dll = Path.Combine(repositoryRoot, "src", "ConnLeakGuard", "bin", "Release", "net10.0", "ConnLeakGuard.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"The build succeeded but {dll} is missing.", dll);
    }
}
