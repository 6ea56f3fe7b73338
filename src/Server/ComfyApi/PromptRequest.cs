using System.Globalization;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// The body of POST /prompt mapped to a submission: <c>prompt</c>, <c>prompt_id</c> (a canonical lowercase UUID,
/// as current ComfyUI requires), <c>number</c> / <c>front</c>, <c>client_id</c>, <c>extra_data</c> and
/// <c>partial_execution_targets</c>.
/// </summary>
internal sealed record PromptRequest(JsonNode Prompt, string PromptId, SubmitOptions Options)
{
    /// <summary>ComfyUI strips these from extra_data before queueing; we have no API nodes, so they are never kept.</summary>
    private static readonly string[] SensitiveExtraData = ["auth_token_comfy_org", "api_key_comfy_org"];

    public sealed record Failure(string Type, string Message, string Details);

    public static PromptRequest Read(JsonObject body, DateTimeOffset now, out Failure? failure)
    {
        failure = null;
        if (!body.TryGetPropertyValue("prompt", out var prompt) || prompt is null)
        {
            failure = new("no_prompt", "No prompt provided", "No prompt provided");
            return null!;
        }

        var promptId = Guid.NewGuid().ToString("D");
        if (body["prompt_id"] is { } id)
        {
            if (!(id is JsonValue v && v.TryGetValue<string>(out var text) && Guid.TryParseExact(text, "D", out var guid) && guid.ToString("D") == text))
            {
                failure = new("invalid_prompt_id", "prompt_id must be a valid UUID",
                    "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one");
                return null!;
            }
            promptId = text;
        }

        double? number = null;
        if (body["number"] is { } n)
        {
            if (!TryNumber(n, out var value))
            {
                failure = new("invalid_prompt", "number must be a number", $"number: {n.ToJsonString()}");
                return null!;
            }
            number = value;
        }

        JsonObject extraData;
        switch (body["extra_data"])
        {
            case null: extraData = new JsonObject(); break;
            case JsonObject given: extraData = (JsonObject)given.DeepClone(); break;
            default:
                failure = new("invalid_prompt", "extra_data must be an object", "extra_data");
                return null!;
        }
        foreach (var key in SensitiveExtraData) extraData.Remove(key);
        if (body["client_id"] is { } client) extraData["client_id"] = client.DeepClone();
        extraData["create_time"] = ComfyJson.Milliseconds(now);

        List<string>? targets = null;
        if (body["partial_execution_targets"] is { } t)
        {
            if (t is not JsonArray array || array.Any(x => x is not JsonValue xv || !xv.TryGetValue<string>(out _)))
            {
                failure = new("invalid_prompt", "partial_execution_targets must be a list of node ids", "partial_execution_targets");
                return null!;
            }
            targets = array.Select(x => x!.GetValue<string>()).ToList();
        }

        body.Remove("prompt"); // detach: the prompt is handed to the engine on its own
        return new PromptRequest(prompt, promptId, new SubmitOptions
        {
            JobId = promptId,
            Number = number,
            Front = number is null && IsTrue(body["front"]),
            ExtraData = extraData,
            OutputTargets = targets,
        });
    }

    /// <summary>ComfyUI's <c>float(number)</c>: a JSON number or a numeric string.</summary>
    private static bool TryNumber(JsonNode node, out double value)
    {
        value = 0;
        if (node is not JsonValue v) return false;
        if (v.TryGetValue(out double d)) value = d;
        else if (v.TryGetValue(out string? s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)) value = parsed;
        else return false;
        return double.IsFinite(value);
    }

    /// <summary>true, a non-zero number, or "true"/"1" (never Python's truthy "false").</summary>
    private static bool IsTrue(JsonNode? node) => node is JsonValue v && (
        (v.TryGetValue(out bool b) && b)
        || (v.TryGetValue(out double d) && d != 0)
        || (v.TryGetValue(out string? s) && (s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1")));
}
