using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.Validation;

/// <summary>
/// Converts a literal JSON input to the CLR value a node receives, as ComfyUI's int()/float()/str()/
/// bool() do, with three corrections: NaN and infinities are refused, "false" is false, and
/// integers outside 64 bits are refused instead of wrapping.
/// </summary>
internal static class LiteralConversion
{
    private const string NotFinite = "NaN and infinities are not allowed";

    /// <summary>Returns the converted value, or null with <paramref name="problem"/> set.</summary>
    public static object? Convert(string type, JsonNode? raw, out string? problem)
    {
        problem = null;
        switch (type)
        {
            case IoTypes.Int: return ToInt(raw, out problem);
            case IoTypes.Float: return ToFloat(raw, out problem);
            case IoTypes.String: return ToStringValue(raw, out problem);
            case IoTypes.Boolean: return ToBoolean(raw, out problem);
            case IoTypes.Combo: return ToClr(raw);
            case IoTypes.Any: return ToClr(raw);
            default:
                problem = $"a {type} input takes a link from a node that outputs {type}, not a literal";
                return null;
        }
    }

    /// <summary>A JSON literal as plain CLR values: long, double, string, bool, null, lists and dictionaries.</summary>
    public static object? ToClr(JsonNode? node) => node switch
    {
        null => null,
        JsonArray a => a.Select(ToClr).ToList(),
        JsonObject o => o.ToDictionary(p => p.Key, p => ToClr(p.Value)),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => JsonNumber.TryGetInt64(v, out var l) ? l : JsonNumber.GetDouble(v),
            _ => null,
        },
        _ => null,
    };

    private static object? ToInt(JsonNode? raw, out string? problem)
    {
        problem = null;
        switch (raw?.GetValueKind())
        {
            case JsonValueKind.Number:
                if (JsonNumber.TryGetInt64(raw, out var l)) return l;
                var d = JsonNumber.GetDouble(raw);
                // int(3.9) == 3 in Python; keep that, but refuse what does not fit 64 bits.
                if (double.IsFinite(d) && d >= long.MinValue && d < 9.2233720368547758E18) return (long)Math.Truncate(d);
                problem = "the value does not fit a 64-bit integer";
                return null;
            case JsonValueKind.String:
                var s = raw.GetValue<string>().Trim();
                if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)) return parsed;
                problem = $"invalid literal for int() with base 10: {PythonText.Repr(raw.GetValue<string>())}";
                return null;
            case JsonValueKind.True: return 1L;
            case JsonValueKind.False: return 0L;
            default:
                problem = $"int() argument must be a string or a number, not {JsonKindName(raw)}";
                return null;
        }
    }

    private static object? ToFloat(JsonNode? raw, out string? problem)
    {
        problem = null;
        double d;
        switch (raw?.GetValueKind())
        {
            case JsonValueKind.Number:
                d = JsonNumber.GetDouble(raw);
                break;
            case JsonValueKind.String:
                var s = raw.GetValue<string>().Trim();
                if (s.TrimStart('+', '-').ToLowerInvariant() is "inf" or "infinity" or "nan")
                {
                    problem = NotFinite;
                    return null;
                }
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d))
                {
                    problem = $"could not convert string to float: {PythonText.Repr(raw.GetValue<string>())}";
                    return null;
                }
                break;
            case JsonValueKind.True: return 1.0;
            case JsonValueKind.False: return 0.0;
            default:
                problem = $"float() argument must be a string or a number, not {JsonKindName(raw)}";
                return null;
        }
        if (double.IsFinite(d)) return d;
        problem = NotFinite;
        return null;
    }

    private static object? ToStringValue(JsonNode? raw, out string? problem)
    {
        problem = null;
        switch (raw?.GetValueKind())
        {
            case JsonValueKind.String: return raw.GetValue<string>();
            case JsonValueKind.Number: return raw.ToJsonString();
            case JsonValueKind.True: return "True";
            case JsonValueKind.False: return "False";
            default:
                problem = $"expected a string, not {JsonKindName(raw)}";
                return null;
        }
    }

    private static object? ToBoolean(JsonNode? raw, out string? problem)
    {
        problem = null;
        switch (raw?.GetValueKind())
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Number:
                var d = JsonNumber.GetDouble(raw);
                if (d == 0) return false;
                if (d == 1) return true;
                break;
            case JsonValueKind.String:
                switch (raw.GetValue<string>().Trim().ToLowerInvariant())
                {
                    case "true" or "1": return true;
                    case "false" or "0": return false;
                }
                break;
        }
        problem = $"{PythonText.Repr(ToClr(raw))} is not a boolean (use true or false)";
        return null;
    }

    private static string JsonKindName(JsonNode? raw) => raw?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "NoneType",
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "dict",
        _ => "value",
    };
}
