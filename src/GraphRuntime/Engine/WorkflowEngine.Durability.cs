using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Engine;

// The engine's side of durability: what it writes to its IJobStore and how it starts again from one.
// Submissions are written before they are acknowledged (a failure refuses them); later writes (started, finished,
// history pruning) follow the in-memory change, and a failure there is reported through StoreWriteFailed.
// Events stay in memory: a restored finished job has only its terminal event, a restored pending job starts afresh.
// Finished jobs in history are compact (Job.Compact, DropOldPreviews): results, request text, events without previews.
public sealed partial class WorkflowEngine
{
    /// <summary>
    /// A store write after the fact failed (the job id, the error). The job goes on in memory; after a crash it would
    /// come back in its last stored state (a finished job as still pending or running, so it runs again). Raised under
    /// the engine's lock: keep handlers short (log it).
    /// </summary>
    public event Action<string, Exception>? StoreWriteFailed;

    private void Persist(string jobId, Action write)
    {
        try { write(); }
        catch (Exception e) { StoreWriteFailed?.Invoke(jobId, e); }
    }

    /// <summary>Finished jobs beyond <see cref="EngineOptions.HistorySize"/> or older than <see cref="EngineOptions.HistoryMaxAge"/>, oldest first.</summary>
    private List<Job> HistoryOverflow()
    {
        var doomed = new List<Job>();
        var excess = _history.Count - Options.HistorySize;
        DateTimeOffset? cutoff = Options.HistoryMaxAge is { } age ? _clock.GetUtcNow() - age : null;
        foreach (var job in _history)
        {
            if (excess > 0) excess--;
            else if (cutoff is null || job.FinishedAt >= cutoff) break;
            doomed.Add(job);
        }
        return doomed;
    }

    /// <summary>
    /// Loads what the store kept: finished jobs back into history, unfinished ones (pending, and the one that was
    /// running when the process died) back into the queue in their order, each validated again. One that no longer
    /// validates (a node or model gone) fails with the validation message.
    /// </summary>
    private void Restore(IJobStore store)
    {
        var contents = store.Load();
        foreach (var stored in contents.Finished)
        {
            _arrivals = Math.Max(_arrivals, stored.Order);
            var job = Job.ForRestoredHistory(stored, OutputIdsOf(stored), _clock);
            job.Status = stored.Status;
            job.StartedAt = stored.StartedAt;
            job.FinishedAt = stored.FinishedAt;
            job.Result = new JobRunResult(stored.Status, StoredJobCodec.Outputs(stored.Outputs), StoredJobCodec.Timings(stored.Timings),
                StoredJobCodec.Error(stored.Error), stored.CancelledAtNode);
            job.Events.Append(TerminalEvent(job.Result));
            _history.AddLast(job);
            Register(job);
        }

        foreach (var stored in contents.Unfinished.OrderBy(s => s.Number).ThenBy(s => s.Order))
        {
            var workflow = ReadWorkflow(stored.Workflow);
            var targets = StoredJobCodec.Targets(stored.OutputTargets);
            var validation = workflow is null
                ? ValidationResult.Failed(new ValidationError(ValidationErrorTypes.InvalidPrompt, "The stored workflow could not be read.", ""))
                : Validate(workflow, targets);
            if (validation.Graph is { } graph && (validation.IsValid || Options.AllowPartialOutputs))
            {
                _arrivals = Math.Max(_arrivals, stored.Order);
                var job = Job.ForRestoredGraph(stored, graph, ReadJson(stored.ExtraData) as JsonObject ?? new JsonObject(), _clock);
                job.Resumed = stored.Status == JobStatus.Running;
                Register(job);
                job.Events.Append(new JobQueued(_queue.Enqueue(job, overCapacity: true)));
                _pendingSignal.Release();
            }
            else
            {
                var job = Restored(stored, workflow ?? ApiWorkflow.FromJson(new JsonObject()), OutputIdsOf(stored));
                var (nodeId, classType, error) = validation.AllErrors().OrderBy(e => e.NodeId is null).FirstOrDefault(); // a node's own error first
                var message = error is null ? "The workflow no longer validates." : $"{error.Message} {error.Details}".Trim();
                job.Status = JobStatus.Failed;
                job.FinishedAt = _clock.GetUtcNow();
                job.Result = new JobRunResult(JobStatus.Failed, new Dictionary<string, IReadOnlyDictionary<string, object?>>(), [],
                    new JobError(nodeId, classType, error?.Type ?? ValidationErrorTypes.InvalidPrompt, message, new Dictionary<string, string>()), null);
                Register(job);
                job.Events.Append(new JobQueued(0));
                job.Events.Append(TerminalEvent(job.Result));
                AddToHistory(job);
            }
        }

        var evicted = HistoryOverflow();
        if (evicted.Count > 0) Persist(evicted[0].Id, () => store.Delete(evicted.Select(j => j.Id).ToArray()));
        foreach (var job in evicted) Forget(job);
    }

    /// <summary>A stored job that can no longer run (it goes to history as failed).</summary>
    private Job Restored(StoredJob stored, ApiWorkflow workflow, IReadOnlyList<string> outputIds)
    {
        _arrivals = Math.Max(_arrivals, stored.Order);
        var extra = ReadJson(stored.ExtraData) as JsonObject ?? new JsonObject();
        return new Job(stored.Id, stored.Number, stored.Order, stored.ClientRequestId, workflow, outputIds,
            StoredJobCodec.Targets(stored.OutputTargets), extra, stored.CreatedAt, _clock);
    }

    private void Register(Job job)
    {
        _jobs[job.Id] = job;
        if (job.ClientRequestId is { } key) _byRequestId[key] = job.Id;
    }

    /// <summary>A finished job's output node ids are the keys of its outputs index (enough for history readers).</summary>
    private static string[] OutputIdsOf(StoredJob stored) => StoredJobCodec.Outputs(stored.Outputs).Keys.ToArray();

    private ApiWorkflow? ReadWorkflow(string json)
    {
        try { return ApiWorkflow.FromJson(ReadJson(json) ?? new JsonObject()); }
        catch (WorkflowFormatException) { return null; }
    }

    private static JsonNode? ReadJson(string json)
    {
        try
        {
            var node = JsonNode.Parse(json);
            StoredJobCodec.Materialize(node);
            return node;
        }
        catch (JsonException) { return null; }
    }

    private static JobEvent TerminalEvent(JobRunResult result) => result.Status switch
    {
        JobStatus.Succeeded => new JobSucceeded(),
        JobStatus.Cancelled => new JobCancelled(result.CancelledAtNode),
        _ => new JobFailed(result.Error?.NodeId, result.Error?.ClassType, result.Error?.ErrorType ?? "Exception",
            result.Error?.Message ?? "", result.Error?.InputsSummary ?? new Dictionary<string, string>()),
    };
}
