using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.GraphRuntime.Validation;

/// <summary>
/// The outcome of validating a workflow: ComfyUI's <c>{error, node_errors}</c> plus, when at least one
/// output is runnable, the compiled graph of the valid outputs.
/// </summary>
public sealed class ValidationResult
{
    internal ValidationResult(ValidationError? error, IReadOnlyDictionary<string, NodeError> nodeErrors,
        CompiledGraph? graph, double estimatedCost)
    {
        Error = error;
        NodeErrors = nodeErrors;
        Graph = graph;
        EstimatedCost = estimatedCost;
    }

    /// <summary>The top-level error, or null (ComfyUI's <c>error</c>).</summary>
    public ValidationError? Error { get; }
    /// <summary>Per-node errors in prompt order (ComfyUI's <c>node_errors</c>).</summary>
    public IReadOnlyDictionary<string, NodeError> NodeErrors { get; }
    /// <summary>The runnable graph (valid outputs and their ancestors), or null when nothing can run.</summary>
    public CompiledGraph? Graph { get; }
    /// <summary>The summed cost estimate of the runnable nodes.</summary>
    public double EstimatedCost { get; }

    /// <summary>No error at all: every output node validated.</summary>
    public bool IsValid => Error is null && NodeErrors.Count == 0 && Graph is not null;

    /// <summary>Every error with the node it belongs to (node id null for top-level errors).</summary>
    public IEnumerable<(string? NodeId, string? ClassType, ValidationError Error)> AllErrors()
    {
        if (Error is not null) yield return (null, null, Error);
        foreach (var (id, node) in NodeErrors)
            foreach (var e in node.Errors) yield return (id, node.ClassType, e);
    }

    internal static ValidationResult Failed(ValidationError error, IReadOnlyDictionary<string, NodeError>? nodeErrors = null) =>
        new(error, nodeErrors ?? new Dictionary<string, NodeError>(), null, 0);

    /// <summary>ComfyUI's 400 body: <c>{"error": {...} | null, "node_errors": {...}}</c>.</summary>
    public JsonObject ToJson()
    {
        var nodes = new JsonObject();
        foreach (var (id, node) in NodeErrors) nodes[id] = node.ToJson();
        return new JsonObject { ["error"] = Error?.ToJson(), ["node_errors"] = nodes };
    }

    public string ToJsonString(bool indented = false) =>
        ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = indented });
}
