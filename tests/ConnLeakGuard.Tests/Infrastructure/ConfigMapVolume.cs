using System.Runtime.InteropServices;

namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>
/// Reproduces the layout of a Kubernetes ConfigMap volume in a temporary folder: appsettings.json is a
/// symlink to ..data/appsettings.json, ..data is a symlink to a timestamped folder, and an update writes a
/// new folder and swaps ..data atomically, so the file the guard opened never changes.
/// </summary>
public sealed class ConfigMapVolume : IDisposable
{
    private int _version;

    public ConfigMapVolume()
    {
        Root = Directory.CreateTempSubdirectory("connleakguard-configmap-").FullName;
        File.CreateSymbolicLink(FilePath, Path.Combine("..data", "appsettings.json"));
    }

    /// <summary>The volume folder.</summary>
    public string Root { get; }

    /// <summary>The path the guard is given: the top-level symlink.</summary>
    public string FilePath => Path.Combine(Root, "appsettings.json");

    /// <summary>Publishes <paramref name="json"/> as the kubelet does: new folder, then an atomic rename of the ..data link.</summary>
    public void Publish(string json)
    {
        var folder = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{++_version}";
        Directory.CreateDirectory(Path.Combine(Root, folder));
        File.WriteAllText(Path.Combine(Root, folder, "appsettings.json"), json);

        var temporaryLink = Path.Combine(Root, "..data_tmp");
        File.CreateSymbolicLink(temporaryLink, folder);

        // rename(2) replaces the old link atomically, as the kubelet does; File.Move refuses a link to a folder.
        if (Rename(temporaryLink, Path.Combine(Root, "..data")) != 0)
        {
            throw new IOException($"rename failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string oldPath, string newPath);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
