using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.WorkflowFormat;
using static CharacterGen.GraphRuntime.Validation.ValidationErrorTypes;

namespace CharacterGen.GraphRuntime.Validation;

/// <summary>
/// ComfyUI's validate_prompt: every error collected in one pass, only nodes reachable from output
/// nodes checked, and the runnable part compiled into a <see cref="CompiledGraph"/>. Adds cycle,
/// dangling-link, unknown-input, cost-budget and memory-budget checks.
/// </summary>
public static class WorkflowValidator
{
    public static ValidationResult Validate(ApiWorkflow workflow, NodeCatalog catalog, ValidationOptions? options = null)
    {
        options ??= ValidationOptions.Default;
        var services = options.Services ?? NoServices.Instance;

        if (workflow.Count > options.MaxNodes)
            return ValidationResult.Failed(new ValidationError(InvalidPrompt,
                $"Cannot execute because the workflow has {workflow.Count} nodes, more than the limit of {options.MaxNodes}.", ""));

        var definitions = new Dictionary<string, NodeDefinition>(workflow.Count, StringComparer.Ordinal);
        if (CheckClasses(workflow, catalog, definitions) is { } classFailure) return classFailure;

        var outputs = new List<string>();
        foreach (var (id, def) in definitions)
            if (def.OutputNode && (options.OutputTargets is null || options.OutputTargets.Contains(id)))
                outputs.Add(id);
        if (outputs.Count == 0)
            return ValidationResult.Failed(new ValidationError(PromptNoOutputs, "Prompt has no outputs", ""));

        // Check every node reachable from an output, breadth first.
        var checker = new NodeInputChecker(workflow, definitions, services);
        var nodes = new Dictionary<string, CheckedNode>(StringComparer.Ordinal);
        var pending = new Queue<string>(outputs);
        while (pending.TryDequeue(out var id))
        {
            if (nodes.ContainsKey(id)) continue;
            var node = checker.Check(id, definitions[id]);
            nodes[id] = node;
            foreach (var source in node.Sources)
                if (!nodes.ContainsKey(source)) pending.Enqueue(source);
        }

        foreach (var node in nodes.Values)
            node.SourceNodes = node.Sources.Select(s => nodes[s]).ToArray();

        // Cheap check first: Tarjan's bookkeeping only when the depth-first ordering meets a back edge.
        var order = TopologicalOrder(nodes.Values, outputs.Select(o => nodes[o]));
        if (order is null) ReportCycles(nodes);
        if (nodes.Values.Any(n => n.HasErrors)) PropagateInvalid(nodes);

        var failedOutputs = outputs.Where(o => nodes[o].Invalid).ToList();
        var validOutputs = outputs.Where(o => !nodes[o].Invalid).ToList();
        var nodeErrors = CollectNodeErrors(workflow, nodes, failedOutputs);

        if (validOutputs.Count == 0 || (failedOutputs.Count > 0 && !options.AllowPartialOutputs))
        {
            var lines = failedOutputs.Where(o => nodes[o].HasErrors).SelectMany(o => nodes[o].Errors).Select(e => $"{e.Message}: {e.Details}");
            return ValidationResult.Failed(
                new ValidationError(PromptOutputsFailedValidation, "Prompt outputs failed validation", string.Join("\n", lines)),
                nodeErrors);
        }

        if (failedOutputs.Count > 0 || order is null)
            order = TopologicalOrder(nodes.Values, validOutputs.Select(o => nodes[o]))!; // valid nodes form no cycle
        var graph = Compile(workflow, order, validOutputs.Select(o => nodes[o]));
        var cost = EstimateCost(graph, options.CostBudget, out var costFailure);
        if (costFailure is not null) return costFailure;
        if (MemoryBudgetCheck.Check(graph, services) is { } memoryFailure) return memoryFailure;
        return new ValidationResult(null, nodeErrors, graph, cost);
    }

    /// <summary>Every node must name a known class, reachable or not (ComfyUI fails the whole prompt).</summary>
    private static ValidationResult? CheckClasses(ApiWorkflow workflow, NodeCatalog catalog, Dictionary<string, NodeDefinition> definitions)
    {
        ValidationError? first = null;
        var nodeErrors = new Dictionary<string, NodeError>(StringComparer.Ordinal);
        foreach (var id in workflow.NodeIds)
        {
            var classType = workflow.ClassType(id);
            ValidationError? error = null;
            if (classType is null)
                error = new ValidationError(InvalidPrompt, "Cannot execute because a node is missing the class_type property.", $"Node ID '#{id}'");
            else if (catalog.Find(classType) is { } def)
                definitions[id] = def;
            else
                error = new ValidationError(InvalidPrompt, $"Cannot execute because node {classType} does not exist.", $"Node ID '#{id}'");
            if (error is null) continue;
            first ??= error;
            nodeErrors[id] = new NodeError(id, classType, [error], []);
        }
        return first is null ? null : ValidationResult.Failed(first, nodeErrors);
    }

    /// <summary>
    /// Iterative depth-first post-order from the start nodes: every node after the nodes it links
    /// from. Null when a back edge (a cycle) is met.
    /// </summary>
    private static List<CheckedNode>? TopologicalOrder(IEnumerable<CheckedNode> all, IEnumerable<CheckedNode> starts)
    {
        foreach (var node in all) node.Mark = 0;
        var order = new List<CheckedNode>();
        var stack = new Stack<(CheckedNode Node, int Next)>();
        foreach (var start in starts)
        {
            if (start.Mark != 0) continue;
            start.Mark = 1;
            stack.Push((start, 0));
            while (stack.TryPop(out var frame))
            {
                var sources = frame.Node.SourceNodes;
                if (frame.Next < sources.Length)
                {
                    stack.Push((frame.Node, frame.Next + 1));
                    var source = sources[frame.Next];
                    if (source.Mark == 1) return null;
                    if (source.Mark == 2) continue;
                    source.Mark = 1;
                    stack.Push((source, 0));
                    continue;
                }
                frame.Node.Mark = 2;
                order.Add(frame.Node);
            }
        }
        return order;
    }

    private static void ReportCycles(Dictionary<string, CheckedNode> nodes)
    {
        var ids = nodes.Keys.ToList();
        foreach (var cycle in CycleFinder.Find(ids, id => nodes[id].Sources))
        {
            var members = ids.Where(cycle.Contains).ToList(); // prompt-discovery order, stable
            var listed = string.Join(", ", members.Select(m => $"'{m}'"));
            foreach (var id in members)
                nodes[id].Errors.Add(new ValidationError(DependencyCycle, "Dependency cycle detected",
                    $"Node '{id}' is part of a cycle through nodes {listed}",
                    new JsonObject { ["cycle"] = new JsonArray(members.Select(m => (JsonNode?)m).ToArray()) }));
        }
    }

    /// <summary>A node with errors invalidates everything downstream of it (without adding reasons there).</summary>
    private static void PropagateInvalid(Dictionary<string, CheckedNode> nodes)
    {
        var dependents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var node in nodes.Values)
            foreach (var source in node.Sources)
                (dependents.TryGetValue(source, out var list) ? list : dependents[source] = []).Add(node.Id);

        var queue = new Queue<string>(nodes.Values.Where(n => n.HasErrors).Select(n => n.Id));
        while (queue.TryDequeue(out var id))
        {
            if (nodes[id].Invalid) continue;
            nodes[id].Invalid = true;
            if (dependents.TryGetValue(id, out var downstream))
                foreach (var d in downstream) queue.Enqueue(d);
        }
    }

    private static Dictionary<string, NodeError> CollectNodeErrors(ApiWorkflow workflow, Dictionary<string, CheckedNode> nodes, List<string> failedOutputs)
    {
        var dependentOutputs = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var output in failedOutputs)
            foreach (var id in Ancestors(nodes, output))
                if (nodes[id].HasErrors)
                    (dependentOutputs.TryGetValue(id, out var list) ? list : dependentOutputs[id] = []).Add(output);

        var result = new Dictionary<string, NodeError>(StringComparer.Ordinal);
        foreach (var id in workflow.NodeIds)
            if (nodes.TryGetValue(id, out var node) && node.HasErrors)
                result[id] = new NodeError(id, node.Definition.ClassType, node.Errors, dependentOutputs.GetValueOrDefault(id) ?? []);
        return result;
    }

    /// <summary>The node and every node it reaches through links (cycle-safe).</summary>
    private static IEnumerable<string> Ancestors(Dictionary<string, CheckedNode> nodes, string start)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        var stack = new Stack<string>();
        stack.Push(start);
        while (stack.TryPop(out var id))
        {
            yield return id;
            foreach (var s in nodes[id].Sources)
                if (seen.Add(s)) stack.Push(s);
        }
    }

    /// <summary>Builds the runnable graph from the ordered valid nodes, resolving links to indices.</summary>
    private static CompiledGraph Compile(ApiWorkflow workflow, List<CheckedNode> order, IEnumerable<CheckedNode> outputs)
    {
        for (var i = 0; i < order.Count; i++) order[i].Index = i;

        var graphNodes = new GraphNode[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            var c = order[i];
            var bound = new BoundInput[c.Inputs.Count];
            var link = 0; // links appear in Inputs in the same order as in SourceNodes
            for (var k = 0; k < bound.Length; k++)
            {
                var input = c.Inputs[k];
                bound[k] = input.Kind switch
                {
                    BoundKind.Link => BoundInput.ForLink(input.Name, c.SourceNodes[link++].Index, input.Slot, input.Lazy),
                    BoundKind.Hidden => BoundInput.ForHidden(input.Name, input.HiddenKind!),
                    _ => BoundInput.ForLiteral(input.Name, input.Literal),
                };
            }
            graphNodes[i] = new GraphNode(c.Id, c.Definition, bound, c.DeclaredCount, c.LiteralInputs!) { Index = i };
        }
        return new CompiledGraph(workflow, graphNodes, outputs.Select(o => graphNodes[o.Index]).ToArray());
    }

    private static double EstimateCost(CompiledGraph graph, double? budget, out ValidationResult? failure)
    {
        failure = null;
        double total = 0;
        var contributions = new List<(GraphNode Node, double Cost)>();
        foreach (var node in graph.Nodes)
        {
            if (node.Definition.EstimateCost is not { } estimate) continue;
            double cost;
            try { cost = estimate(node.Literals); }
            catch (Exception) { cost = double.PositiveInfinity; } // an estimate that fails cannot be trusted under a budget
            if (!double.IsFinite(cost) || cost < 0) cost = double.PositiveInfinity;
            total += cost;
            if (cost > 0) contributions.Add((node, cost));
        }
        if (budget is not { } limit || total <= limit) return total;

        var message = $"Estimated cost {PythonText.Float(total)} exceeds the budget of {PythonText.Float(limit)}";
        var nodeErrors = contributions.ToDictionary(c => c.Node.Id, c => new NodeError(c.Node.Id, c.Node.ClassType,
            [new ValidationError(CostBudgetExceeded, "Estimated cost exceeds the budget",
                $"node cost {PythonText.Float(c.Cost)} of total {PythonText.Float(total)}",
                new JsonObject { ["estimated_cost"] = c.Cost, ["budget"] = limit })],
            graph.Outputs.Select(o => o.Id).ToArray()), StringComparer.Ordinal);
        failure = ValidationResult.Failed(new ValidationError(CostBudgetExceeded, message, message,
            new JsonObject { ["estimated_cost"] = double.IsFinite(total) ? total : null, ["budget"] = limit }), nodeErrors);
        return total;
    }
}
