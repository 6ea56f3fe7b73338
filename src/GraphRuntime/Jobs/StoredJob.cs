using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// A job as a store keeps it: plain values and JSON text (what a table row holds). <see cref="Order"/> is the
/// arrival counter, unique and increasing; run order is (<see cref="Number"/>, <see cref="Order"/>).
/// </summary>
public sealed record StoredJob
{
    public required string Id { get; init; }
    public required long Order { get; init; }
    public required double Number { get; init; }
    public string? ClientRequestId { get; init; }
    /// <summary>The API-format workflow as JSON (UI-format submissions are stored converted).</summary>
    public required string Workflow { get; init; }
    /// <summary>ComfyUI's extra_data, a JSON object.</summary>
    public required string ExtraData { get; init; }
    /// <summary>The output nodes the submission asked for (partial execution), a JSON array; null = all.</summary>
    public string? OutputTargets { get; init; }
    public required JobStatus Status { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The outputs index: node id → that node's ui output (e.g. the saved files), a JSON object.</summary>
    public string? Outputs { get; init; }
    /// <summary>Why it failed, a JSON object (node_id, class_type, type, message, inputs); null unless failed.</summary>
    public string? Error { get; init; }
    /// <summary>Per-node timings, a JSON array.</summary>
    public string? Timings { get; init; }
    public string? CancelledAtNode { get; init; }

    public bool IsFinished => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}
