using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnLeakGuard.LeakLab.Upstream;

/// <summary>Serializes <see cref="UpstreamStatus"/> for the status lines of the upstream protocol.</summary>
internal static class UpstreamStatusJson
{
    public static string Serialize(UpstreamStatus status) =>
        JsonSerializer.Serialize(status, UpstreamStatusJsonContext.Default.UpstreamStatus);

    public static UpstreamStatus? Deserialize(string json) =>
        JsonSerializer.Deserialize(json, UpstreamStatusJsonContext.Default.UpstreamStatus);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(UpstreamStatus))]
internal sealed partial class UpstreamStatusJsonContext : JsonSerializerContext;
