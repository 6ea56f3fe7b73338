using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Json;

/// <summary>
/// Reads numbers from JsonNodes however they were made: parsed nodes hold a JsonElement, nodes built
/// in code hold an int, a long, a double... and GetValue&lt;double&gt;() on an int node throws.
/// </summary>
internal static class JsonNumber
{
    public static bool IsNumber(JsonNode? node) => node?.GetValueKind() == JsonValueKind.Number;

    /// <summary>The number as an integer, when it is integral and fits 64 bits.</summary>
    public static bool TryGetInt64(JsonNode? node, out long value)
    {
        value = 0;
        if (!IsNumber(node)) return false;
        var v = node!.AsValue();
        if (v.TryGetValue(out value)) return true;
        if (v.TryGetValue(out int i)) { value = i; return true; }
        return long.TryParse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public static double GetDouble(JsonNode node)
    {
        var v = node.AsValue();
        if (v.TryGetValue(out double d)) return d;
        if (TryGetInt64(node, out var l)) return l;
        return double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
