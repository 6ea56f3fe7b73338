using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// A job's mutable state inside the engine. Guarded by the engine's lock. Once finished it is <see cref="Compact"/>ed:
/// history keeps its results, its request as text and its events without previews, nothing that only running needs.
/// </summary>
internal sealed class Job(string id, double number, long order, string? clientRequestId, ApiWorkflow? workflow,
    IReadOnlyList<string> outputNodeIds, IReadOnlyCollection<string>? outputTargets, JsonObject? extraData,
    DateTimeOffset createdAt, TimeProvider clock)
{
    private ApiWorkflow? _workflow = workflow;
    private JsonObject? _extraData = extraData;

    public string Id { get; } = id;
    public double Number { get; } = number;
    /// <summary>Arrival order, the tie-breaker between equal numbers.</summary>
    public long Order { get; } = order;
    public string? ClientRequestId { get; } = clientRequestId;
    public IReadOnlyList<string> OutputNodeIds { get; } = outputNodeIds;
    /// <summary>The output nodes the submission asked for (kept so that a restored job validates the same way).</summary>
    public IReadOnlyCollection<string>? OutputTargets { get; } = outputTargets;
    /// <summary>What runs; null once finished.</summary>
    public CompiledGraph? Graph { get; private set; }
    /// <summary>The submission's extra_data, live while the job is pending or running (nodes read it).</summary>
    public JsonObject ExtraData => _extraData ?? Request!.ExtraData();
    /// <summary>A finished job's workflow and extra_data as compact text; null before.</summary>
    public JobRequestText? Request { get; private set; }
    public JobEventLog Events { get; } = new(id, clock);
    public CancellationTokenSource Cancellation { get; } = new();
    /// <summary>It was running when the previous process stopped: it runs again before the other pending jobs.</summary>
    public bool Resumed { get; set; }
    /// <summary>A client cancelled it (as opposed to the engine stopping, which leaves the job to run after a restart).</summary>
    public bool CancelRequested { get; set; }
    /// <summary>Shared queue: the sequence number of the last event stored before this run (its events continue after it).</summary>
    public long EventBase { get; set; }
    /// <summary>Shared queue: another worker owns the job now; this run's result is discarded.</summary>
    public bool LeaseLost { get; set; }
    /// <summary>The trace context of the request that submitted it (default when restored), the parent of the job's span.</summary>
    public System.Diagnostics.ActivityContext SubmittedFrom { get; set; }
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public JobStatus Status { get; set; } = JobStatus.Pending;
    public JobRunResult? Result { get; set; }

    private static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> NoOutputs =
        new Dictionary<string, IReadOnlyDictionary<string, object?>>();

    public static Job ForGraph(string id, double number, long order, string? clientRequestId, CompiledGraph graph,
        IReadOnlyCollection<string>? outputTargets, JsonObject extraData, DateTimeOffset createdAt, TimeProvider clock) =>
        new(id, number, order, clientRequestId, graph.Workflow, graph.Outputs.Select(o => o.Id).ToArray(), outputTargets,
            extraData, createdAt, clock) { Graph = graph };

    /// <summary>A job restored into the queue (its graph validated again).</summary>
    public static Job ForRestoredGraph(StoredJob stored, CompiledGraph graph, JsonObject extraData, TimeProvider clock) =>
        new(stored.Id, stored.Number, stored.Order, stored.ClientRequestId, graph.Workflow, graph.Outputs.Select(o => o.Id).ToArray(),
            StoredJobCodec.Targets(stored.OutputTargets), extraData, stored.CreatedAt, clock) { Graph = graph };

    /// <summary>A job restored straight into history: its request stays text, never parsed unless read.</summary>
    public static Job ForRestoredHistory(StoredJob stored, IReadOnlyList<string> outputNodeIds, TimeProvider clock) =>
        new(stored.Id, stored.Number, stored.Order, stored.ClientRequestId, null, outputNodeIds,
            StoredJobCodec.Targets(stored.OutputTargets), null, stored.CreatedAt, clock)
        {
            Request = JobRequestText.From(stored.Workflow, stored.ExtraData),
        };

    /// <summary>
    /// Drops what only running needed once the job has finished: the compiled graph (node instances, bound inputs)
    /// and the parsed request (JsonNode trees, many times their text), kept as compact text instead.
    /// </summary>
    public void Compact()
    {
        if (Request is not null) return;
        Request = JobRequestText.From(_workflow!, _extraData!);
        _workflow = null;
        _extraData = null;
        Graph = null;
    }

    public JobSnapshot Snapshot() => new(
        Id, Status, Number, ClientRequestId, CreatedAt, StartedAt, FinishedAt, OutputNodeIds,
        Result?.Outputs ?? NoOutputs, Result?.Error, Result?.Timings ?? [], Result?.CancelledAtNode, Events.Count,
        _workflow, _extraData, Request);

    public StoredJob ToStored() => new()
    {
        Id = Id,
        Order = Order,
        Number = Number,
        ClientRequestId = ClientRequestId,
        Workflow = Request?.WorkflowJson ?? _workflow!.ToJsonString(),
        ExtraData = Request?.ExtraDataJson ?? _extraData!.ToJsonString(),
        OutputTargets = StoredJobCodec.TargetsJson(OutputTargets),
        Status = Status,
        CreatedAt = CreatedAt,
        StartedAt = StartedAt,
        FinishedAt = FinishedAt,
        Outputs = Result is null ? null : StoredJobCodec.OutputsJson(Result.Outputs),
        Error = StoredJobCodec.ErrorJson(Result?.Error),
        Timings = Result is null ? null : StoredJobCodec.TimingsJson(Result.Timings),
        CancelledAtNode = Result?.CancelledAtNode,
    };
}
