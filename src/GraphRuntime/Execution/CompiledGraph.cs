using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// A validated workflow ready to run: the output nodes to execute and every ancestor they can reach,
/// in topological order, with literals converted and links resolved to node indices.
/// </summary>
public sealed class CompiledGraph
{
    private Dictionary<string, GraphNode>? _byId; // built on first lookup: the executor never needs it

    internal CompiledGraph(ApiWorkflow workflow, GraphNode[] nodes, GraphNode[] outputs)
    {
        Workflow = workflow;
        Nodes = nodes;
        Outputs = outputs;
    }

    public ApiWorkflow Workflow { get; }
    /// <summary>Every runnable node; each comes after all nodes it links from.</summary>
    public IReadOnlyList<GraphNode> Nodes { get; }
    /// <summary>The output nodes that will run, in prompt order.</summary>
    public IReadOnlyList<GraphNode> Outputs { get; }

    public GraphNode? Find(string id) =>
        (_byId ??= Nodes.ToDictionary(n => n.Id, StringComparer.Ordinal)).GetValueOrDefault(id);
}

/// <summary>One node of a <see cref="CompiledGraph"/>.</summary>
public sealed class GraphNode
{
    internal GraphNode(string id, NodeDefinition definition, BoundInput[] inputs, int declaredCount, LiteralInputs literals)
    {
        Id = id;
        Definition = definition;
        Inputs = inputs;
        DeclaredCount = declaredCount;
        Literals = literals;
        // Precomputed for the cache key: inputs by name (JSON key order must not matter), id dependence.
        var order = new List<int>(inputs.Length);
        for (var i = 0; i < inputs.Length; i++)
            if (inputs[i].Kind != BoundKind.Hidden) order.Add(i);
        if (order.Count > 1) order.Sort((a, b) => string.CompareOrdinal(inputs[a].Name, inputs[b].Name));
        SignatureOrder = order.ToArray();
        KeyedById = definition.NotIdempotent
            || definition.Inputs.Any(i => i.Section == InputSection.Hidden && i.Type == HiddenInputs.UniqueId);
    }

    public string Id { get; }
    public NodeDefinition Definition { get; }
    public string ClassType => Definition.ClassType;
    /// <summary>Position in <see cref="CompiledGraph.Nodes"/>.</summary>
    public int Index { get; internal set; }
    /// <summary>The converted literal inputs (what the validation, cost and fingerprint hooks saw).</summary>
    public LiteralInputs Literals { get; }

    internal BoundInput[] Inputs { get; }
    /// <summary>Inputs before this index are declared ones; the rest are dynamic extra links.</summary>
    internal int DeclaredCount { get; }
    internal int[] SignatureOrder { get; }
    internal bool KeyedById { get; }
}

internal enum BoundKind { Literal, Link, Hidden }

/// <summary>An input as the executor needs it: a converted literal, a link to a node index, or a hidden value.</summary>
internal readonly record struct BoundInput(string Name, BoundKind Kind, object? Literal, int SourceIndex, int Slot, bool Lazy, string? HiddenKind)
{
    public static BoundInput ForLiteral(string name, object? value) => new(name, BoundKind.Literal, value, -1, 0, false, null);
    public static BoundInput ForLink(string name, int source, int slot, bool lazy) => new(name, BoundKind.Link, null, source, slot, lazy, null);
    public static BoundInput ForHidden(string name, string kind) => new(name, BoundKind.Hidden, null, -1, 0, false, kind);
}
