using System.Diagnostics;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.Execution;

/// <summary>Everything one execution of a compiled graph needs.</summary>
internal sealed record JobRunRequest(string JobId, CompiledGraph Graph, JsonObject ExtraData, JobEventLog Events, CancellationToken Cancellation,
    Observability.Telemetry.JobScope? Trace = null);

/// <summary>
/// Runs one job's graph synchronously on the calling thread: cached nodes are skipped, the rest run
/// in dependency order from the outputs (a topological "dissolve" like ComfyUI's ExecutionList),
/// lazy inputs are pulled only when the node asks for them, and cancellation is checked at every
/// node boundary and progress tick. Emits all events except the terminal one.
/// </summary>
internal sealed class GraphExecutor(OutputCache cache, IServiceProvider services)
{
    private readonly SignatureBuilder _signatures = new();

    public JobRunResult Run(JobRunRequest request)
    {
        var state = new RunState(request);
        try
        {
            request.Cancellation.ThrowIfCancellationRequested();
            Prepare(state);
            Schedule(state);
            return state.Result(JobStatus.Succeeded);
        }
        catch (OperationCanceledException) when (request.Cancellation.IsCancellationRequested)
        {
            return state.Result(JobStatus.Cancelled, cancelledAt: state.Current?.Id);
        }
        catch (NodeExecutionException ex)
        {
            var node = state.Current!;
            var inner = ex.InnerException!;
            return state.Result(JobStatus.Failed, new JobError(node.Id, node.ClassType, inner.GetType().Name, inner.Message,
                SummarizeInputs(state, node), inner));
        }
        catch (Exception ex)
        {
            return state.Result(JobStatus.Failed, new JobError(state.Current?.Id, state.Current?.ClassType, ex.GetType().Name, ex.Message,
                new Dictionary<string, string>(), ex));
        }
        finally
        {
            cache.Trim();
        }
    }

    /// <summary>Signatures, then the nodes already cached (ComfyUI's execution_cached).</summary>
    private void Prepare(RunState s)
    {
        s.Keys = _signatures.Compute(s.Graph);
        var cachedIds = new List<string>();
        var cachedWithUi = new List<(GraphNode, OutputCache.Entry)>();
        foreach (var node in s.Graph.Nodes)
        {
            if (!cache.TryGet(s.Keys[node.Index], out var entry)) continue;
            s.Outputs[node.Index] = entry.Outputs;
            s.Timings.Add(new NodeTiming(node.Id, node.ClassType, true, TimeSpan.Zero));
            cachedIds.Add(node.Id);
            if (entry.Ui is not null) cachedWithUi.Add((node, entry));
        }
        s.Request.Events.Append(new NodesCached(cachedIds));
        foreach (var (node, entry) in cachedWithUi) FinishFromCache(s, node, entry, timed: false);
    }

    /// <summary>Depth-first from the outputs: a node runs once every input it needs is available.</summary>
    private void Schedule(RunState s)
    {
        var stack = new Stack<GraphNode>();
        for (var i = s.Graph.Outputs.Count - 1; i >= 0; i--) stack.Push(s.Graph.Outputs[i]);

        while (stack.TryPeek(out var node))
        {
            if (s.Outputs[node.Index] is not null)
            {
                stack.Pop();
                continue;
            }
            if (PushMissing(s, node, stack)) continue;
            if (RequestLazy(s, node)) continue; // new hard dependencies: look again
            stack.Pop();
            Execute(s, node);
        }
    }

    /// <summary>Pushes the unevaluated sources of the node's needed inputs (last input first, so the first runs first).</summary>
    private static bool PushMissing(RunState s, GraphNode node, Stack<GraphNode> stack)
    {
        var pushed = false;
        for (var i = node.Inputs.Length - 1; i >= 0; i--)
        {
            var input = node.Inputs[i];
            if (input.Kind != BoundKind.Link || s.Outputs[input.SourceIndex] is not null) continue;
            if (input.Lazy && s.Requested[node.Index]?.Contains(input.Name) != true) continue;
            stack.Push(s.Graph.Nodes[input.SourceIndex]);
            pushed = true;
        }
        return pushed;
    }

    /// <summary>ComfyUI's check_lazy_status: true when the node asked for lazy inputs not yet evaluated.</summary>
    private bool RequestLazy(RunState s, GraphNode node)
    {
        if (node.Definition.CheckLazyStatus is not { } hook) return false;
        var pending = false;
        foreach (var input in node.Inputs)
            pending |= input.Kind == BoundKind.Link && input.Lazy && s.Outputs[input.SourceIndex] is null;
        if (!pending) return false;

        s.Current = node;
        IEnumerable<string> wanted;
        try
        {
            wanted = hook(NewContext(s, node), NodeCall.LazyView(node, GatherInputs(s, node))).ToList();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !s.Request.Cancellation.IsCancellationRequested)
        {
            throw new NodeExecutionException(node.Id, node.ClassType, ex);
        }

        var added = false;
        foreach (var name in wanted)
        {
            var input = Array.Find(node.Inputs, i => i.Name == name);
            if (input.Kind != BoundKind.Link || !input.Lazy || s.Outputs[input.SourceIndex] is not null) continue;
            added |= (s.Requested[node.Index] ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
        return added;
    }

    private void Execute(RunState s, GraphNode node)
    {
        s.Current = node;
        s.Request.Cancellation.ThrowIfCancellationRequested();
        // The same sub-graph can appear twice in one prompt; the second copy is a cache hit.
        if (cache.TryGet(s.Keys[node.Index], out var hit))
        {
            s.Outputs[node.Index] = hit.Outputs;
            FinishFromCache(s, node, hit, timed: true);
            return;
        }

        s.Request.Events.Append(new NodeStarted(node.Id, node.ClassType));
        using var span = s.NodeSpan = s.Request.Trace?.StartNode(node.Id, node.ClassType);
        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<object?>[] outputs;
        IReadOnlyDictionary<string, object?>? ui;
        try
        {
            (outputs, ui) = NodeCall.Invoke(node, NewContext(s, node), GatherInputs(s, node), node.Definition.Execute);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !s.Request.Cancellation.IsCancellationRequested)
        {
            span?.Failed(ex);
            throw new NodeExecutionException(node.Id, node.ClassType, ex);
        }

        s.Outputs[node.Index] = outputs;
        cache.Put(s.Keys[node.Index], outputs, ui);
        if (ui is not null) s.Ui[node.Id] = ui;
        s.Timings.Add(new NodeTiming(node.Id, node.ClassType, false, Stopwatch.GetElapsedTime(started)));
        s.Request.Events.Append(new NodeFinished(node.Id, node.ClassType, ui, false));
    }

    private static void FinishFromCache(RunState s, GraphNode node, OutputCache.Entry entry, bool timed)
    {
        if (timed) s.Timings.Add(new NodeTiming(node.Id, node.ClassType, true, TimeSpan.Zero));
        if (entry.Ui is null) return;
        s.Ui[node.Id] = entry.Ui;
        s.Request.Events.Append(new NodeFinished(node.Id, node.ClassType, entry.Ui, true));
    }

    /// <summary>Per bound input: its value list, or null for a lazy input whose source has not run.</summary>
    private static IReadOnlyList<object?>?[] GatherInputs(RunState s, GraphNode node)
    {
        var lists = new IReadOnlyList<object?>?[node.Inputs.Length];
        for (var i = 0; i < lists.Length; i++)
        {
            var input = node.Inputs[i];
            lists[i] = input.Kind switch
            {
                BoundKind.Link => s.Outputs[input.SourceIndex]?[input.Slot],
                BoundKind.Hidden => [HiddenValue(s, node, input.HiddenKind!)],
                _ => [input.Literal],
            };
        }
        return lists;
    }

    private static object? HiddenValue(RunState s, GraphNode node, string kind) => kind switch
    {
        HiddenInputs.Prompt => s.Graph.Workflow.Root,
        HiddenInputs.ExtraPngInfo => s.Request.ExtraData["extra_pnginfo"],
        HiddenInputs.UniqueId => (object)node.Id, // without the cast the arms unify to JsonNode
        _ => null,
    };

    private NodeContext NewContext(RunState s, GraphNode node) =>
        new(s.Request.JobId, node.Id, node.ClassType, s.Graph.Workflow.Root, s.Request.ExtraData, services,
            s.Request.Cancellation, s.OnProgress);

    /// <summary>A short, safe description of each input: literals abbreviated, links by value type.</summary>
    private static IReadOnlyDictionary<string, string> SummarizeInputs(RunState s, GraphNode node)
    {
        var summary = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in node.Inputs)
        {
            switch (input.Kind)
            {
                case BoundKind.Literal:
                    var text = PythonText.Repr(input.Literal);
                    summary[input.Name] = text.Length <= 64 ? text : text[..61] + "...";
                    break;
                case BoundKind.Link:
                    var source = s.Graph.Nodes[input.SourceIndex];
                    var values = s.Outputs[input.SourceIndex]?[input.Slot];
                    var type = values is { Count: > 0 } ? values[0]?.GetType().Name ?? "null" : "not evaluated";
                    summary[input.Name] = values is { Count: > 1 }
                        ? $"list of {values.Count} {type} from node {source.Id} output {input.Slot}"
                        : $"{type} from node {source.Id} output {input.Slot}";
                    break;
            }
        }
        return summary;
    }

    /// <summary>Mutable bookkeeping of one run.</summary>
    private sealed class RunState
    {
        public RunState(JobRunRequest request)
        {
            Request = request;
            Outputs = new IReadOnlyList<object?>[]?[request.Graph.Nodes.Count];
            Requested = new HashSet<string>?[request.Graph.Nodes.Count];
            OnProgress = (ctx, value, max, preview, details) =>
            {
                NodeSpan?.Step();
                Request.Events.Append(new NodeProgress(ctx.NodeId, value, max, preview) { Details = details });
            };
        }

        public JobRunRequest Request { get; }
        public CompiledGraph Graph => Request.Graph;
        public CacheKey[] Keys { get; set; } = [];
        public IReadOnlyList<object?>[]?[] Outputs { get; }
        public HashSet<string>?[] Requested { get; }
        public Dictionary<string, IReadOnlyDictionary<string, object?>> Ui { get; } = new(StringComparer.Ordinal);
        public List<NodeTiming> Timings { get; } = [];
        public GraphNode? Current { get; set; }
        /// <summary>The executing node's telemetry (null without telemetry).</summary>
        public Observability.Telemetry.NodeScope? NodeSpan { get; set; }
        public Action<NodeContext, double, double, object?, IReadOnlyDictionary<string, object?>?> OnProgress { get; }

        public JobRunResult Result(JobStatus status, JobError? error = null, string? cancelledAt = null) =>
            new(status, Ui, Timings, error, cancelledAt);
    }
}
