using System.Text.Json;
using System.Text.Json.Serialization;
using ConnLeakGuard.LeakLab.Results;

namespace ConnLeakGuard.LeakLab.Output;

/// <summary>Writes the <see cref="LabResult"/> as indented camelCase JSON.</summary>
internal static class ResultFileWriter
{
    public const string FileName = "result.json";

    public static async Task<string> WriteAsync(LabResult result, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);

        string path = Path.Combine(directory, FileName);
        await using FileStream stream = File.Create(path);
        await JsonSerializer.SerializeAsync(stream, result, LabResultJsonContext.Default.LabResult, cancellationToken);
        return path;
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(LabResult))]
internal sealed partial class LabResultJsonContext : JsonSerializerContext;
