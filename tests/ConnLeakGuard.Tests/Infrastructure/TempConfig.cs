namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>A configuration file in a temporary folder, deleted on dispose.</summary>
public sealed class TempConfig : IAsyncDisposable
{
    private TempConfig(string directory)
    {
        Directory = directory;
    }

    /// <summary>The folder holding the file.</summary>
    public string Directory { get; }

    /// <summary>Path of appsettings.json in the folder.</summary>
    public string Path => System.IO.Path.Combine(Directory, "appsettings.json");

    /// <summary>Writes <paramref name="json"/> to a new temporary appsettings.json.</summary>
    public static async Task<TempConfig> CreateAsync(string json)
    {
        var config = new TempConfig(System.IO.Directory.CreateTempSubdirectory("connleakguard-config-").FullName);
        await File.WriteAllTextAsync(config.Path, json);
        return config;
    }

    public ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
