using System.Text.Json.Serialization;

namespace ConnLeakGuard.Admin;

/// <summary>
/// Source-generated JSON for the admin endpoints, with snake_case names to match the Prometheus labels and
/// the query parameters.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ConnectionReport))]
[JsonSerializable(typeof(CloseResult))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
