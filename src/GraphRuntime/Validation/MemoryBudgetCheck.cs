using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Contracts;
using static CharacterGen.GraphRuntime.Validation.ValidationErrorTypes;

namespace CharacterGen.GraphRuntime.Validation;

/// <summary>
/// The memory side of the cost budget: walks the compiled graph in execution order, feeding each node's memory hook
/// the output descriptions of its sources (so a latent's shape flows through upscales and samplers), and refuses the
/// workflow when a node's peak estimate exceeds the <see cref="MemoryBudget"/> registered on the engine. Node ids, the
/// estimate and the limit go into the error, so every transport reports the same thing.
/// </summary>
internal static class MemoryBudgetCheck
{
    public static ValidationResult? Check(CompiledGraph graph, IServiceProvider services)
    {
        if (services.GetService(typeof(MemoryBudget)) is not MemoryBudget budget) return null;

        var described = new IReadOnlyList<object?>?[graph.Nodes.Count];
        var over = new List<(GraphNode Node, long Bytes)>();
        foreach (var node in graph.Nodes)
        {
            if (node.Definition.EstimateMemory is not { } hook) continue;
            var context = new MemoryEstimateContext(node.Literals, input => Describe(graph, described, node, input));
            MemoryEstimate estimate;
            try { estimate = hook(context); }
            catch (Exception) { continue; } // a hook that cannot tell must not refuse a workflow; run time still guards
            described[node.Index] = estimate.Outputs;
            if (estimate.PeakBytes > budget.Bytes) over.Add((node, estimate.PeakBytes));
        }
        if (over.Count == 0) return null;

        var worst = over.MaxBy(o => o.Bytes);
        var message = $"Node {worst.Node.Id} ({worst.Node.ClassType}) needs an estimated {Bytes(worst.Bytes)}, " +
                      $"more than the memory limit of {Bytes(budget.Bytes)}";
        var nodeErrors = over.ToDictionary(o => o.Node.Id, o => new NodeError(o.Node.Id, o.Node.ClassType,
            [new ValidationError(MemoryBudgetExceeded, "Estimated memory exceeds the limit",
                $"node {o.Node.Id} ({o.Node.ClassType}) needs an estimated {Bytes(o.Bytes)}, the limit is {Bytes(budget.Bytes)}",
                new JsonObject { ["estimated_bytes"] = o.Bytes, ["limit_bytes"] = budget.Bytes })],
            graph.Outputs.Select(x => x.Id).ToArray()), StringComparer.Ordinal);
        return ValidationResult.Failed(new ValidationError(MemoryBudgetExceeded, message, message,
            new JsonObject { ["node_id"] = worst.Node.Id, ["estimated_bytes"] = worst.Bytes, ["limit_bytes"] = budget.Bytes }), nodeErrors);
    }

    private static object? Describe(CompiledGraph graph, IReadOnlyList<object?>?[] described, GraphNode node, string input)
    {
        foreach (var bound in node.Inputs)
        {
            if (bound.Kind != BoundKind.Link || !string.Equals(bound.Name, input, StringComparison.Ordinal)) continue;
            var outputs = described[bound.SourceIndex];
            return outputs is not null && bound.Slot < outputs.Count ? outputs[bound.Slot] : null;
        }
        return null;
    }

    /// <summary>"1.5 GiB": binary units, one decimal.</summary>
    internal static string Bytes(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} bytes" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
