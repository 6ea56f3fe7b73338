using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Workflow;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>A job as seen from outside at one moment (queue, history, job lookups).</summary>
public sealed record JobSnapshot(
    string Id,
    JobStatus Status,
    double Number,
    string? ClientRequestId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    ApiWorkflow Workflow,
    JsonObject ExtraData,
    IReadOnlyList<string> OutputNodeIds,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Outputs,
    JobError? Error,
    IReadOnlyList<NodeTiming> Timings,
    string? CancelledAtNode,
    long LastSequence)
{
    public bool IsFinished => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>GET /queue: the running job and the pending ones in the order they will run.</summary>
public sealed record QueueSnapshot(JobSnapshot? Running, IReadOnlyList<JobSnapshot> Pending);
