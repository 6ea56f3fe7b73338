using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Json;

/// <summary>
/// Parses workflow JSON strictly: a size cap checked before parsing, a depth cap, and duplicate keys
/// refused (System.Text.Json's default keeps the last one, which would let two "steps" slip through).
/// </summary>
public static class StrictJson
{
    public static JsonNode Parse(string json, JsonLimits? limits = null)
    {
        limits ??= JsonLimits.Default;
        // Count bytes without encoding a huge string first: UTF-8 is at most 3 bytes per UTF-16 unit.
        if ((long)json.Length > limits.MaxBytes && Encoding.UTF8.GetByteCount(json) > limits.MaxBytes)
            throw TooLarge(limits);
        return ParseCore(() => JsonNode.Parse(json, null, Options(limits)), limits);
    }

    public static JsonNode Parse(ReadOnlySpan<byte> utf8, JsonLimits? limits = null)
    {
        limits ??= JsonLimits.Default;
        if (utf8.Length > limits.MaxBytes) throw TooLarge(limits);
        var copy = utf8.ToArray();
        return ParseCore(() => JsonNode.Parse(copy, null, Options(limits)), limits);
    }

    private static JsonNode ParseCore(Func<JsonNode?> parse, JsonLimits limits)
    {
        try
        {
            return parse() ?? throw new WorkflowFormatException("The workflow JSON is null.");
        }
        catch (JsonException ex)
        {
            // STJ messages name the position, never content; keep them (they help users find the typo).
            throw new WorkflowFormatException($"Invalid workflow JSON: {ex.Message}", ex);
        }
    }

    private static JsonDocumentOptions Options(JsonLimits limits) => new()
    {
        AllowDuplicateProperties = false,
        MaxDepth = limits.MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    private static WorkflowFormatException TooLarge(JsonLimits limits) =>
        new($"The workflow JSON is larger than the limit of {limits.MaxBytes} bytes.");
}
