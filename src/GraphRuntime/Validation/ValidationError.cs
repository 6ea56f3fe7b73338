using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Validation;

/// <summary>ComfyUI's error object: <c>{"type", "message", "details", "extra_info"}</c>.</summary>
public sealed record ValidationError(string Type, string Message, string Details, JsonObject ExtraInfo)
{
    public ValidationError(string type, string message, string details = "")
        : this(type, message, details, new JsonObject()) { }

    /// <summary>extra_info.input_name, when the error is about one input.</summary>
    public string? InputName =>
        ExtraInfo["input_name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public JsonObject ToJson() => new()
    {
        ["type"] = Type,
        ["message"] = Message,
        ["details"] = Details,
        ["extra_info"] = ExtraInfo.DeepClone(),
    };

    public override string ToString() => $"{Type}: {Message}: {Details}";
}

/// <summary>ComfyUI's <c>node_errors[id]</c>: a node's own errors and the outputs they block.</summary>
public sealed record NodeError(string NodeId, string? ClassType, IReadOnlyList<ValidationError> Errors, IReadOnlyList<string> DependentOutputs)
{
    public JsonObject ToJson() => new()
    {
        ["errors"] = new JsonArray(Errors.Select(e => (JsonNode?)e.ToJson()).ToArray()),
        ["dependent_outputs"] = new JsonArray(DependentOutputs.Select(o => (JsonNode?)o).ToArray()),
        ["class_type"] = ClassType,
    };
}
