using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Domain = CharacterGen.GraphRuntime.Events;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// charactergen.v1.Workflows: maps the proto to the shared <see cref="WorkflowEngine"/> and its outcomes to
/// statuses (ARCHITECTURE.md "Server rules"). Jobs outlive calls; only Run ties a job to its call, and only
/// unless the client asks otherwise.
/// </summary>
public sealed partial class WorkflowsService(
    WorkflowEngine engine, WorkflowSpecReader reader, OutputFiles outputFiles, QueueReadiness readiness,
    Hosting.ServerOptions options, ILogger<WorkflowsService> logger) : Protos.V1.Workflows.WorkflowsBase
{
    /// <summary>The back-off RESOURCE_EXHAUSTED suggests when the queue is full: the same value as HTTP's Retry-After.</summary>
    private TimeSpan QueueFullRetryDelay => TimeSpan.FromSeconds(options.RetryAfterSeconds);

    public const int MaxClientRequestIdLength = 128;

    public override async Task<SubmitResponse> Submit(SubmitRequest request, ServerCallContext context)
    {
        var submitted = await SubmitJobAsync(request, "", context.CancellationToken);
        return new SubmitResponse { JobId = submitted.JobId!, QueuePosition = submitted.Position, AlreadySubmitted = submitted.Existing };
    }

    public override async Task Run(RunRequest request, IServerStreamWriter<JobEvent> responses, ServerCallContext context)
    {
        var submitted = await SubmitJobAsync(request.Submit ?? new SubmitRequest(), "submit.", context.CancellationToken);
        var jobId = submitted.JobId!;
        var streamed = false;
        try
        {
            await StreamAsync(jobId, 1, request.InlineOutputs, responses, context.CancellationToken);
            streamed = true;
        }
        finally
        {
            // Client cancel, disconnect or deadline (or a failed write): the call ended before the job did.
            // Not a token registration: the handler's own continuation can run inside the token's Cancel and
            // would dispose a registration before its turn came.
            if (!streamed) EndedEarly(jobId, request.ContinueOnDisconnect);
        }
    }

    private void EndedEarly(string jobId, bool continueOnDisconnect)
    {
        if (!continueOnDisconnect) engine.Cancel(jobId);
        LogRunEnded(logger, jobId, continueOnDisconnect ? "keeps running" : "is cancelled");
    }

    public override Task Watch(WatchRequest request, IServerStreamWriter<JobEvent> responses, ServerCallContext context)
    {
        RequireJobId(request.JobId);
        if (request.FromSequence < 0) RpcErrors.ThrowInvalidArgument("from_sequence", "must not be negative");
        return StreamAsync(request.JobId, Math.Max(1, request.FromSequence), request.InlineOutputs, responses, context.CancellationToken);
    }

    public override Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context)
    {
        var job = FindJob(request.JobId);
        return Task.FromResult(new GetJobResponse { Job = JobMapping.ToProto(job, JobMapping.PositionIn(engine.Queue, job.Id)) });
    }

    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        if (request.States.Contains(JobState.Unspecified))
            RpcErrors.ThrowInvalidArgument("states", "JOB_STATE_UNSPECIFIED is not a state to filter by");
        var (jobs, next) = JobPage.Select(engine.ListJobs(), request.States, request.PageSize, request.PageToken);
        return Task.FromResult(new ListJobsResponse { Jobs = { jobs }, NextPageToken = next });
    }

    public override Task<CancelJobResponse> Cancel(CancelJobRequest request, ServerCallContext context)
    {
        var before = FindJob(request.JobId);
        var requested = engine.Cancel(before.Id);
        var after = engine.GetJob(before.Id) ?? before;
        return Task.FromResult(new CancelJobResponse
        {
            CancellationRequested = requested,
            Job = JobMapping.ToProto(after, JobMapping.PositionIn(engine.Queue, after.Id)),
        });
    }

    public override async Task<ValidateResponse> Validate(ValidateRequest request, ServerCallContext context)
    {
        var read = await reader.ReadAsync(request.Workflow, "workflow", context.CancellationToken);
        var validation = read.Unreadable ?? engine.Validate(read.Workflow!, OutputTargets(request.Workflow));
        return ValidationMapping.ToResponse(validation);
    }

    public override Task<ListNodeTypesResponse> ListNodeTypes(ListNodeTypesRequest request, ServerCallContext context)
    {
        var catalog = engine.Catalog;
        if (request.ClassType.Length == 0)
            return Task.FromResult(new ListNodeTypesResponse
            {
                NodeTypes = { catalog.Definitions.Select(NodeTypeMapping.ToProto) },
                ObjectInfoJson = catalog.ObjectInfoJson(),
            });
        if (catalog.Find(request.ClassType) is not { } node)
            throw RpcErrors.NotFound($"No node type '{request.ClassType}'.");
        return Task.FromResult(new ListNodeTypesResponse
        {
            NodeTypes = { NodeTypeMapping.ToProto(node) },
            ObjectInfoJson = catalog.ObjectInfoJson(node.ClassType),
        });
    }

    /// <summary>Reads, validates and queues; every refusal becomes its status. Returns only accepted submissions.</summary>
    private async Task<SubmitResult> SubmitJobAsync(SubmitRequest request, string prefix, CancellationToken cancellationToken)
    {
        if (request.ClientRequestId.Length > MaxClientRequestIdLength)
            RpcErrors.ThrowInvalidArgument(prefix + "client_request_id", $"must be at most {MaxClientRequestIdLength} characters");
        var read = await reader.ReadAsync(request.Workflow, prefix + "workflow", cancellationToken);
        if (read.Unreadable is { } unreadable) throw ValidationMapping.InvalidWorkflow(unreadable);

        var result = engine.Submit(read.Workflow!, new SubmitOptions
        {
            Front = request.Front,
            ClientRequestId = request.ClientRequestId.Length > 0 ? request.ClientRequestId : null,
            ExtraData = request.ExtraData is null ? null : ProtoValues.ToJsonObject(request.ExtraData),
            OutputTargets = OutputTargets(request.Workflow),
        });
        switch (result.Status)
        {
            case SubmitStatus.Queued:
                return result;
            case SubmitStatus.QueueFull:
                readiness.Refresh();
                throw RpcErrors.ResourceExhausted(
                    $"The job queue is full ({engine.Options.QueueCapacity} pending jobs). Retry later.", QueueFullRetryDelay);
            default:
                throw ValidationMapping.InvalidWorkflow(result.Validation!);
        }
    }

    /// <summary>The job's events from <paramref name="fromSequence"/> to its terminal one.</summary>
    private async Task StreamAsync(string jobId, long fromSequence, bool inlineOutputs, IServerStreamWriter<JobEvent> responses,
        CancellationToken cancellationToken)
    {
        IAsyncEnumerable<Domain.JobEvent> events;
        try { events = engine.Subscribe(jobId, fromSequence, cancellationToken); }
        catch (KeyNotFoundException) { throw JobNotFound(jobId); }

        await foreach (var e in events)
        {
            var message = e is Domain.JobSucceeded
                ? JobEventMapping.Succeeded(e, await outputFiles.DescribeAsync(
                    engine.GetJob(jobId)?.Outputs ?? new Dictionary<string, IReadOnlyDictionary<string, object?>>(), inlineOutputs, cancellationToken))
                : JobEventMapping.ToProto(e);
            await responses.WriteAsync(message, cancellationToken);
        }
    }

    private JobSnapshot FindJob(string jobId)
    {
        RequireJobId(jobId);
        return engine.GetJob(jobId) ?? throw JobNotFound(jobId);
    }

    private static void RequireJobId(string jobId)
    {
        if (jobId.Length == 0) RpcErrors.ThrowInvalidArgument("job_id", "must not be empty");
    }

    private static RpcException JobNotFound(string jobId) =>
        RpcErrors.NotFound($"No job '{(jobId.Length <= 64 ? jobId : jobId[..64] + "...")}' (unknown, or dropped from history).");

    private static IReadOnlyCollection<string>? OutputTargets(WorkflowSpec? spec) =>
        spec is { OutputNodeIds.Count: > 0 } ? spec.OutputNodeIds.ToArray() : null;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Run of job {JobId} ended by its caller; the job {Outcome}")]
    private static partial void LogRunEnded(ILogger logger, string jobId, string outcome);
}
