using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// A job as seen from outside at one moment (queue, history, job lookups). For a finished job, <see cref="Workflow"/>
/// and <see cref="ExtraData"/> are parsed from history's compact text on first read (a listing that never reads them
/// costs nothing); each snapshot then has its own copy.
/// </summary>
public sealed class JobSnapshot
{
    private ApiWorkflow? _workflow;
    private JsonObject? _extraData;
    private readonly JobRequestText? _request;

    internal JobSnapshot(string id, JobStatus status, double number, string? clientRequestId, DateTimeOffset createdAt,
        DateTimeOffset? startedAt, DateTimeOffset? finishedAt, IReadOnlyList<string> outputNodeIds,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> outputs, JobError? error, IReadOnlyList<NodeTiming> timings,
        string? cancelledAtNode, long lastSequence, ApiWorkflow? workflow, JsonObject? extraData, JobRequestText? request)
    {
        Id = id;
        Status = status;
        Number = number;
        ClientRequestId = clientRequestId;
        CreatedAt = createdAt;
        StartedAt = startedAt;
        FinishedAt = finishedAt;
        OutputNodeIds = outputNodeIds;
        Outputs = outputs;
        Error = error;
        Timings = timings;
        CancelledAtNode = cancelledAtNode;
        LastSequence = lastSequence;
        _workflow = workflow;
        _extraData = extraData;
        _request = request;
    }

    public string Id { get; }
    public JobStatus Status { get; }
    public double Number { get; }
    public string? ClientRequestId { get; }
    public DateTimeOffset CreatedAt { get; }
    public DateTimeOffset? StartedAt { get; }
    public DateTimeOffset? FinishedAt { get; }
    public IReadOnlyList<string> OutputNodeIds { get; }
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Outputs { get; }
    public JobError? Error { get; }
    public IReadOnlyList<NodeTiming> Timings { get; }
    public string? CancelledAtNode { get; }
    /// <summary>The sequence number of the job's last event so far (its event count).</summary>
    public long LastSequence { get; }

    /// <summary>The API-format workflow that ran (UI-format submissions converted).</summary>
    public ApiWorkflow Workflow => _workflow ??= _request?.Workflow() ?? ApiWorkflow.FromJson(new JsonObject());

    /// <summary>ComfyUI's extra_data of the submission.</summary>
    public JsonObject ExtraData => _extraData ??= _request?.ExtraData() ?? new JsonObject();

    public bool IsFinished => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>GET /queue: the running job and the pending ones in the order they will run.</summary>
public sealed record QueueSnapshot(JobSnapshot? Running, IReadOnlyList<JobSnapshot> Pending)
{
    /// <summary>Every running job: several when nodes share one queue (<see cref="Running"/> is the first of them).</summary>
    public IReadOnlyList<JobSnapshot> AllRunning { get; init; } = Running is null ? [] : [Running];
}
