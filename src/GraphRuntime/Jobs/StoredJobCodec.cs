using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// Converts a job's results to and from the JSON text a <see cref="StoredJob"/> holds. Ui outputs are JSON-ish
/// (dictionaries, lists, strings, numbers, JsonNodes); they come back as JsonNodes, which every transport reads.
/// </summary>
internal static class StoredJobCodec
{
    private const int MaxDepth = 64;
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public static string? TargetsJson(IReadOnlyCollection<string>? targets) =>
        targets is null ? null : new JsonArray(targets.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()).ToJsonString();

    public static IReadOnlyCollection<string>? Targets(string? json) =>
        json is null ? null : (JsonNode.Parse(json) as JsonArray ?? []).Select(n => n?.GetValue<string>() ?? "").ToArray();

    public static string OutputsJson(IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> outputs)
    {
        var root = new JsonObject();
        foreach (var (node, ui) in outputs) root[node] = Map(ui, 0);
        return root.ToJsonString(Compact);
    }

    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Outputs(string? json)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, object?>>(StringComparer.Ordinal);
        if (json is null || JsonNode.Parse(json) is not JsonObject root) return result;
        Materialize(root);
        foreach (var (node, ui) in root)
        {
            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (ui is JsonObject fields)
                foreach (var (key, value) in fields) values[key] = value;
            result[node] = values;
        }
        return result;
    }

    public static string? ErrorJson(JobError? error) => error is null ? null : new JsonObject
    {
        ["node_id"] = error.NodeId,
        ["class_type"] = error.ClassType,
        ["type"] = error.ErrorType,
        ["message"] = error.Message,
        ["inputs"] = new JsonObject(error.InputsSummary.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))),
    }.ToJsonString(Compact);

    public static JobError? Error(string? json)
    {
        if (json is null || JsonNode.Parse(json) is not JsonObject e) return null;
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e["inputs"] is JsonObject summary)
            foreach (var (key, value) in summary) inputs[key] = value?.GetValue<string>() ?? "";
        return new JobError(Text(e, "node_id"), Text(e, "class_type"), Text(e, "type") ?? "Exception", Text(e, "message") ?? "", inputs);
    }

    public static string TimingsJson(IReadOnlyList<NodeTiming> timings) =>
        new JsonArray(timings.Select(t => (JsonNode?)new JsonObject
        {
            ["node_id"] = t.NodeId,
            ["class_type"] = t.ClassType,
            ["cached"] = t.Cached,
            ["ticks"] = t.Duration.Ticks,
        }).ToArray()).ToJsonString(Compact);

    public static IReadOnlyList<NodeTiming> Timings(string? json)
    {
        if (json is null || JsonNode.Parse(json) is not JsonArray list) return [];
        return list.OfType<JsonObject>().Select(t => new NodeTiming(Text(t, "node_id") ?? "", Text(t, "class_type") ?? "",
            t["cached"]?.GetValue<bool>() ?? false, TimeSpan.FromTicks(t["ticks"]?.GetValue<long>() ?? 0))).ToArray();
    }

    private static string? Text(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static JsonObject Map(IEnumerable<KeyValuePair<string, object?>> map, int depth)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map) result[key] = Value(value, depth + 1);
        return result;
    }

    /// <summary>A ui value as JSON; a value of any other type is kept as its type name, so it can never break a write.</summary>
    private static JsonNode? Value(object? value, int depth)
    {
        if (depth > MaxDepth) return JsonValue.Create("…");
        switch (value)
        {
            case null: return null;
            case JsonNode node: return node.DeepClone();
            case JsonElement element: return JsonNode.Parse(element.GetRawText());
            case string s: return JsonValue.Create(s);
            case bool b: return JsonValue.Create(b);
            case double d: return Number(d);
            case float f: return Number(f);
            case int or long or short or byte or sbyte or uint or ushort: return JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture));
            case ulong u: return JsonValue.Create(u);
            case decimal m: return JsonValue.Create(m);
            case IReadOnlyDictionary<string, object?> map: return Map(map, depth);
            case IDictionary dictionary:
                var obj = new JsonObject();
                foreach (DictionaryEntry entry in dictionary)
                    obj[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = Value(entry.Value, depth + 1);
                return obj;
            case byte[] bytes: return JsonValue.Create($"<{bytes.Length} bytes>");
            case IEnumerable list: return new JsonArray(list.Cast<object?>().Select(v => Value(v, depth + 1)).ToArray());
            default:
                // Never reflect over an unknown object (a tensor's getters would touch native memory off its thread).
                return JsonValue.Create(value.GetType().Name);
        }
    }

    /// <summary>JSON has no NaN or infinities: name them.</summary>
    private static JsonNode Number(double d) =>
        double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture));

    /// <summary>Parsed JsonNodes build children lazily, which is unsafe for concurrent readers: build them now.</summary>
    public static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, child) in o) Materialize(child);
                break;
            case JsonArray a:
                foreach (var child in a) Materialize(child);
                break;
        }
    }
}
