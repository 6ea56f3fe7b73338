using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.WorkflowFormat;

/// <summary>Reads a workflow file in either format: API (<c>{id: {class_type, inputs}}</c>) or the UI's "Save" format.</summary>
public static class WorkflowLoader
{
    public static ApiWorkflow Load(string json, NodeCatalog catalog, JsonLimits? limits = null) =>
        FromJson(StrictJson.Parse(json, limits), catalog);

    public static ApiWorkflow FromJson(JsonNode root, NodeCatalog catalog) =>
        IsUiFormat(root) ? UiWorkflowConverter.Convert((JsonObject)root, catalog) : ApiWorkflow.FromJson(root);

    /// <summary>The UI format has top-level "nodes" (an array) and "links"; no API node looks like that.</summary>
    public static bool IsUiFormat(JsonNode root) =>
        root is JsonObject o && o["nodes"] is JsonArray && o.ContainsKey("links");
}
