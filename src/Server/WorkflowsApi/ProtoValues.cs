using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// Converts the runtime's JSON-ish values (ui outputs: dictionaries, lists, numbers, strings, JsonNodes)
/// to google.protobuf.Struct/Value and back. Explicit, not reflection: a value of any other type
/// becomes its type name, so a node that puts a tensor in its ui output cannot break the stream.
/// </summary>
internal static class ProtoValues
{
    private const int MaxDepth = 32;

    public static Struct ToStruct(IReadOnlyDictionary<string, object?> values)
    {
        var result = new Struct();
        foreach (var (key, value) in values) result.Fields[key] = ToValue(value, 0);
        return result;
    }

    public static Value ToValue(object? value) => ToValue(value, 0);

    /// <summary>A Struct as a JSON object (for extra_data).</summary>
    public static JsonObject ToJsonObject(Struct value) =>
        JsonNode.Parse(JsonFormatter.Default.Format(value)) as JsonObject ?? new JsonObject();

    private static Value ToValue(object? value, int depth)
    {
        if (depth > MaxDepth) return Value.ForString("…");
        return value switch
        {
            null => Value.ForNull(),
            string s => Value.ForString(s),
            bool b => Value.ForBool(b),
            double d => Number(d),
            float f => Number(f),
            long or int or short or byte or sbyte or ulong or uint or ushort or decimal =>
                Number(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            JsonNode node => FromJson(node, depth),
            JsonElement element => FromJson(JsonSerializer.SerializeToNode(element), depth),
            IReadOnlyDictionary<string, object?> map => Value.ForStruct(StructOf(map, depth)),
            IDictionary dictionary => Value.ForStruct(StructOf(dictionary, depth)),
            byte[] bytes => Value.ForString($"<{bytes.Length} bytes>"),
            IEnumerable list => Value.ForList(list.Cast<object?>().Select(v => ToValue(v, depth + 1)).ToArray()),
            _ => Value.ForString(value.GetType().Name),
        };
    }

    /// <summary>Protobuf's JSON has no NaN or infinities in Struct; name them instead of failing.</summary>
    private static Value Number(double d) =>
        double.IsFinite(d) ? Value.ForNumber(d) : Value.ForString(d.ToString(CultureInfo.InvariantCulture));

    private static Struct StructOf(IReadOnlyDictionary<string, object?> map, int depth)
    {
        var result = new Struct();
        foreach (var (key, value) in map) result.Fields[key] = ToValue(value, depth + 1);
        return result;
    }

    private static Struct StructOf(IDictionary dictionary, int depth)
    {
        var result = new Struct();
        foreach (DictionaryEntry entry in dictionary)
            result.Fields[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = ToValue(entry.Value, depth + 1);
        return result;
    }

    private static Value FromJson(JsonNode? node, int depth)
    {
        if (depth > MaxDepth) return Value.ForString("…");
        switch (node)
        {
            case null:
                return Value.ForNull();
            case JsonObject obj:
                var result = new Struct();
                foreach (var (key, child) in obj) result.Fields[key] = FromJson(child, depth + 1);
                return Value.ForStruct(result);
            case JsonArray array:
                return Value.ForList(array.Select(child => FromJson(child, depth + 1)).ToArray());
            default:
                var element = node.AsValue();
                return element.GetValueKind() switch
                {
                    JsonValueKind.String => Value.ForString(element.GetValue<string>()),
                    JsonValueKind.True => Value.ForBool(true),
                    JsonValueKind.False => Value.ForBool(false),
                    JsonValueKind.Number => Number(element.TryGetValue<double>(out var d) ? d
                        : double.Parse(element.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)),
                    _ => Value.ForNull(),
                };
        }
    }
}
