using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CharacterGen.Server.ComfyApi;

/// <summary>Small conversions shared by the ComfyUI shapes: numbers as Python prints them, times in ms, node ui values.</summary>
internal static class ComfyJson
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    /// <summary>An integral value as a JSON integer (ComfyUI's counters and steps are ints), anything else as a float.</summary>
    public static JsonNode Number(double value) =>
        double.IsFinite(value) && value == Math.Floor(value) && Math.Abs(value) < 9e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    /// <summary>Milliseconds since the Unix epoch (ComfyUI's <c>timestamp</c> and <c>create_time</c>).</summary>
    public static long Milliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>A node's ui output as JSON: JSON nodes are copied, dictionaries and lists walked, primitives kept.</summary>
    public static JsonObject Ui(IReadOnlyDictionary<string, object?> ui)
    {
        var result = new JsonObject();
        foreach (var (key, value) in ui) result[key] = Value(value);
        return result;
    }

    public static JsonNode? Value(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int or long or short or byte or uint or ushort or sbyte => JsonValue.Create(Convert.ToInt64(value)),
        ulong u => JsonValue.Create(u),
        float f => Number(f),
        double d => Number(d),
        decimal m => JsonValue.Create(m),
        IReadOnlyDictionary<string, object?> map => Ui(map),
        IDictionary map => Dictionary(map),
        IEnumerable list => new JsonArray(list.Cast<object?>().Select(Value).ToArray()),
        _ => JsonSerializer.SerializeToNode(value, value.GetType(), Compact),
    };

    public static byte[] Utf8(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, Compact);

    /// <summary>The string at <paramref name="key"/>, or null when absent or not a string.</summary>
    public static string? String(JsonObject? obj, string key) =>
        obj?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static JsonObject Dictionary(IDictionary map)
    {
        var result = new JsonObject();
        foreach (DictionaryEntry entry in map) result[entry.Key.ToString() ?? ""] = Value(entry.Value);
        return result;
    }
}
