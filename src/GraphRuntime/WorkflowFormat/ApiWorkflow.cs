using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Json;

namespace CharacterGen.GraphRuntime.WorkflowFormat;

/// <summary>
/// A workflow in ComfyUI's API format: <c>{node_id: {class_type, inputs, _meta}}</c>. Inputs are
/// literals or links <c>[source_id, slot]</c>; a literal list is wrapped as <c>{"__value__": [...]}</c>.
/// The JSON is kept as-is (it is also the hidden PROMPT input); validation reads it, never rewrites it.
/// </summary>
public sealed class ApiWorkflow
{
    private ApiWorkflow(JsonObject root) => Root = root;

    /// <summary>The prompt object. Treat as read-only once handed to the engine.</summary>
    public JsonObject Root { get; }

    public int Count => Root.Count;

    public IEnumerable<string> NodeIds => Root.Select(p => p.Key);

    public static ApiWorkflow Parse(string json, JsonLimits? limits = null) => FromJson(StrictJson.Parse(json, limits));

    /// <summary>Wraps an already-parsed prompt; checks its shape (objects all the way to the inputs).</summary>
    public static ApiWorkflow FromJson(JsonNode node)
    {
        if (node is not JsonObject root)
            throw new WorkflowFormatException("An API-format workflow must be a JSON object of nodes keyed by id.");
        foreach (var (id, value) in root)
        {
            if (id.Length == 0) throw new WorkflowFormatException("A node id is empty.");
            if (value is not JsonObject obj)
                throw new WorkflowFormatException($"Node '{id}' must be a JSON object with class_type and inputs.");
            if (obj["inputs"] is { } inputs && inputs is not JsonObject)
                throw new WorkflowFormatException($"The inputs of node '{id}' must be a JSON object.");
        }
        Materialize(root);
        return new ApiWorkflow(root);
    }

    /// <summary>
    /// Parsed JsonNodes build their children lazily on first access, which is not safe when two
    /// threads read at once (a transport serialising the prompt while a node reads PROMPT). Touch
    /// everything once so the tree is plain, read-only data from here on.
    /// </summary>
    private static void Materialize(JsonNode? node)
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

    public JsonObject? Node(string id) => Root[id] as JsonObject;

    /// <summary>The node's class_type, or null when missing or not a string.</summary>
    public string? ClassType(string id) =>
        Node(id)?["class_type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public JsonObject Inputs(string id) => Node(id)?["inputs"] as JsonObject ?? EmptyInputs;

    public string? Title(string id) =>
        Node(id)?["_meta"]?["title"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public ApiWorkflow Clone() => new((JsonObject)Root.DeepClone());

    public string ToJsonString(bool indented = false) =>
        Root.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    private static readonly JsonObject EmptyInputs = new();
}
