using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.WorkflowFormat;

/// <summary>An override was malformed or names a node or input that does not exist.</summary>
public sealed class WorkflowOverrideException(string message) : ArgumentException(message);

/// <summary>
/// One <c>NODE_ID.INPUT=VALUE</c> assignment (the CLI's --set, reused by the gRPC layer). The value
/// is read as a JSON literal when it parses as one (<c>7</c>, <c>1.5</c>, <c>true</c>, <c>"x"</c>,
/// <c>["4",0]</c> for a link), otherwise taken as a plain string.
/// </summary>
public sealed record WorkflowOverride(string NodeId, string InputName, JsonNode? Value)
{
    /// <exception cref="WorkflowOverrideException">Not of the form NODE_ID.INPUT=VALUE.</exception>
    public static WorkflowOverride Parse(string assignment)
    {
        var eq = assignment.IndexOf('=');
        var dot = eq < 0 ? -1 : assignment.IndexOf('.', 0, eq);
        if (eq < 0 || dot <= 0 || dot == eq - 1)
            throw new WorkflowOverrideException($"Override '{assignment}' is not of the form NODE_ID.INPUT=VALUE.");
        return new WorkflowOverride(assignment[..dot], assignment[(dot + 1)..eq], ParseValue(assignment[(eq + 1)..]));
    }

    public static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text, null, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>
    /// Returns a copy of the workflow with the assignments applied. The node must exist, and the input
    /// must already be set or, when a catalogue is given, be declared by the node's class.
    /// </summary>
    public static ApiWorkflow ApplyAll(ApiWorkflow workflow, IEnumerable<WorkflowOverride> overrides, NodeCatalog? catalog = null)
    {
        var copy = workflow.Clone();
        foreach (var o in overrides) o.ApplyTo(copy, catalog);
        return copy;
    }

    public static ApiWorkflow ApplyAll(ApiWorkflow workflow, IEnumerable<string> assignments, NodeCatalog? catalog = null) =>
        ApplyAll(workflow, assignments.Select(Parse).ToList(), catalog);

    private void ApplyTo(ApiWorkflow workflow, NodeCatalog? catalog)
    {
        if (workflow.Node(NodeId) is not { } node)
            throw new WorkflowOverrideException($"Override {NodeId}.{InputName}: the workflow has no node '{NodeId}'.");
        if (node["inputs"] is not JsonObject inputs) node["inputs"] = inputs = new JsonObject();
        var declared = workflow.ClassType(NodeId) is { } cls && catalog?.Find(cls) is { } def
            && def.FindInput(InputName) is { Section: not InputSection.Hidden };
        if (!inputs.ContainsKey(InputName) && !declared)
            throw new WorkflowOverrideException(
                $"Override {NodeId}.{InputName}: node '{NodeId}' ({workflow.ClassType(NodeId) ?? "no class_type"}) has no input '{InputName}'.");
        inputs[InputName] = Value?.DeepClone();
    }
}
