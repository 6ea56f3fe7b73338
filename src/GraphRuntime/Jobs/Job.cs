using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Workflow;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>A job's mutable state inside the engine. Guarded by the engine's lock.</summary>
internal sealed class Job(string id, double number, long order, string? clientRequestId, ApiWorkflow workflow,
    IReadOnlyList<string> outputNodeIds, IReadOnlyCollection<string>? outputTargets, JsonObject extraData,
    DateTimeOffset createdAt, TimeProvider clock)
{
    public string Id { get; } = id;
    public double Number { get; } = number;
    /// <summary>Arrival order, the tie-breaker between equal numbers.</summary>
    public long Order { get; } = order;
    public string? ClientRequestId { get; } = clientRequestId;
    public ApiWorkflow Workflow { get; } = workflow;
    public IReadOnlyList<string> OutputNodeIds { get; } = outputNodeIds;
    /// <summary>The output nodes the submission asked for (kept so that a restored job validates the same way).</summary>
    public IReadOnlyCollection<string>? OutputTargets { get; } = outputTargets;
    /// <summary>What runs; null for a finished job restored from the store.</summary>
    public CompiledGraph? Graph { get; init; }
    public JsonObject ExtraData { get; } = extraData;
    public JobEventLog Events { get; } = new(id, clock);
    public CancellationTokenSource Cancellation { get; } = new();
    /// <summary>It was running when the previous process stopped: it runs again before the other pending jobs.</summary>
    public bool Resumed { get; set; }
    /// <summary>A client cancelled it (as opposed to the engine stopping, which leaves the job to run after a restart).</summary>
    public bool CancelRequested { get; set; }
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

    public JobSnapshot Snapshot() => new(
        Id, Status, Number, ClientRequestId, CreatedAt, StartedAt, FinishedAt, Workflow, ExtraData, OutputNodeIds,
        Result?.Outputs ?? NoOutputs, Result?.Error, Result?.Timings ?? [], Result?.CancelledAtNode, Events.Count);

    public StoredJob ToStored() => new()
    {
        Id = Id,
        Order = Order,
        Number = Number,
        ClientRequestId = ClientRequestId,
        Workflow = Workflow.ToJsonString(),
        ExtraData = ExtraData.ToJsonString(),
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
