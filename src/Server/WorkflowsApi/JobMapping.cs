using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using Google.Protobuf.WellKnownTypes;
using Proto = CharacterGen.Protos.V1;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>Job snapshots and states between the runtime and the proto.</summary>
internal static class JobMapping
{
    public static Proto.Job ToProto(JobSnapshot job, int queuePosition)
    {
        var message = new Proto.Job
        {
            JobId = job.Id,
            State = ToProto(job.Status),
            ClientRequestId = job.ClientRequestId ?? "",
            CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt),
            StartedAt = job.StartedAt is { } started ? Timestamp.FromDateTimeOffset(started) : null,
            FinishedAt = job.FinishedAt is { } finished ? Timestamp.FromDateTimeOffset(finished) : null,
            QueuePosition = job.Status == JobStatus.Pending ? queuePosition : 0,
            OutputNodeIds = { job.OutputNodeIds },
            Error = job.Error is { } error && job.Status == JobStatus.Failed ? JobEventMapping.Failed(error) : null,
            CancelledAtNode = job.CancelledAtNode ?? "",
            LastSequence = job.LastSequence,
        };
        foreach (var (nodeId, ui) in job.Outputs) message.Outputs[nodeId] = ProtoValues.ToStruct(ui);
        foreach (var timing in job.Timings)
            message.Timings.Add(new Proto.NodeTiming
            {
                NodeId = timing.NodeId, ClassType = timing.ClassType, Cached = timing.Cached, Duration = Duration.FromTimeSpan(timing.Duration),
            });
        return message;
    }

    public static Proto.JobState ToProto(JobStatus status) => status switch
    {
        JobStatus.Pending => Proto.JobState.Pending,
        JobStatus.Running => Proto.JobState.Running,
        JobStatus.Succeeded => Proto.JobState.Succeeded,
        JobStatus.Failed => Proto.JobState.Failed,
        JobStatus.Cancelled => Proto.JobState.Cancelled,
        _ => Proto.JobState.Unspecified,
    };

    /// <summary>The position of a pending job in the queue now (0 when it is not pending).</summary>
    public static int PositionIn(QueueSnapshot queue, string jobId)
    {
        for (var i = 0; i < queue.Pending.Count; i++)
            if (queue.Pending[i].Id == jobId) return i;
        return 0;
    }
}
