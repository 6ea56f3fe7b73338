using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>A job's mutable state inside the engine. Guarded by the engine's lock.</summary>
internal sealed class Job(string id, double number, long order, string? clientRequestId, CompiledGraph graph,
    JsonObject extraData, DateTimeOffset createdAt, TimeProvider clock)
{
    public string Id { get; } = id;
    public double Number { get; } = number;
    /// <summary>Arrival order, the tie-breaker between equal numbers.</summary>
    public long Order { get; } = order;
    public string? ClientRequestId { get; } = clientRequestId;
    public CompiledGraph Graph { get; } = graph;
    public JsonObject ExtraData { get; } = extraData;
    public JobEventLog Events { get; } = new(id, clock);
    public CancellationTokenSource Cancellation { get; } = new();
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public JobStatus Status { get; set; } = JobStatus.Pending;
    public JobRunResult? Result { get; set; }

    private static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> NoOutputs =
        new Dictionary<string, IReadOnlyDictionary<string, object?>>();

    public JobSnapshot Snapshot() => new(
        Id, Status, Number, ClientRequestId, CreatedAt, StartedAt, FinishedAt, Graph.Workflow, ExtraData,
        Graph.Outputs.Select(o => o.Id).ToArray(),
        Result?.Outputs ?? NoOutputs, Result?.Error, Result?.Timings ?? [], Result?.CancelledAtNode, Events.Count);
}
