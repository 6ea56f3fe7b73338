using System.Text.Json;
using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// Ui outputs read back from a shared store as the plain values a live run produces (dictionaries, lists, strings,
/// numbers, booleans) rather than JsonNodes, so code that reads a job's outputs (the character pipeline, say) sees
/// the same shapes whichever node ran the job.
/// </summary>
internal static class PlainValues
{
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Outputs(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> outputs) =>
        outputs.ToDictionary(p => p.Key, p => Ui(p.Value), StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, object?> Ui(IReadOnlyDictionary<string, object?> ui) =>
        ui.ToDictionary(p => p.Key, p => p.Value is JsonNode node ? Of(node) : p.Value, StringComparer.Ordinal);

    public static object? Of(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => (IReadOnlyDictionary<string, object?>)o.ToDictionary(p => p.Key, p => Of(p.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(Of).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.TryGetValue<long>(out var l) ? l : v.GetValue<double>(),
            _ => null,
        },
        _ => null,
    };
}
