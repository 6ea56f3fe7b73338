using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Validation;

namespace CharacterGen.GraphRuntime.Engine;

// The engine as one node of several sharing an ISharedJobStore (EngineOptions.Shared). The store is the queue, the
// history and the event log: a submission is a row (plus its queued event), a worker claims rows under a lease that a
// heartbeat renews, stores the job's events as it runs (batched) and completes it in one fenced transaction with its
// last events. Lookups, listings and event streams read the store, so every node sees every job; previews are not
// carried across nodes. Nothing of another node's jobs is held in memory.
public sealed partial class WorkflowEngine
{
    private readonly ISharedJobStore? _shared;
    private TaskCompletionSource _eventsStored = NewSignal();
    private long _sharedOrder;

    /// <summary>
    /// The shared store could (null) or could not (the reason) be reached by the claim loop or a heartbeat. Raised on
    /// background threads: keep handlers short.
    /// </summary>
    public event Action<string?>? SharedStoreProblem;

    /// <summary>This node lost a job's lease before completing it (the job id): its result was discarded.</summary>
    public event Action<string>? LeaseLost;

    /// <summary>Jobs this node has run to a stored completion (for tests and the status page).</summary>
    public long SharedCompletions => Interlocked.Read(ref _sharedCompletions);
    private long _sharedCompletions;
    private const int PruneEvery = 32;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void OnSharedChange(SharedChange change)
    {
        if (change.Kind == SharedChangeKind.JobQueued) _pendingSignal.Release();
        else Interlocked.Exchange(ref _eventsStored, NewSignal()).TrySetResult();
    }

    private SubmitResult SubmitShared(ValidationResult validation, SubmitOptions options)
    {
        var shared = _shared!;
        if (options.ClientRequestId is { } key && shared.FindByRequestId(key) is { } known)
            return new SubmitResult(SubmitStatus.Queued, known.Id, known.Number, 0, validation, Existing: true);
        var ahead = shared.PendingCount();
        if (ahead >= _queue.Capacity) return new SubmitResult(SubmitStatus.QueueFull, null, 0, 0, validation);

        // Arrival order across nodes: microseconds since 2020 (exact in a double), strictly increasing per node.
        var now = _clock.GetUtcNow();
        long order;
        lock (_gate) order = _sharedOrder = Math.Max(_sharedOrder + 1, (now - new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero)).Ticks / 10);
        var id = options.JobId ?? Guid.NewGuid().ToString();
        var number = options.Number ?? (options.Front ? -order : order);
        var job = Job.ForGraph(id, number, order, options.ClientRequestId, validation.Graph!, options.OutputTargets,
            (JsonObject?)options.ExtraData?.DeepClone() ?? new JsonObject(), now, _clock);
        var queued = new JobQueued(ahead) { JobId = id, Sequence = 1, Timestamp = now };
        shared.AddQueued(job.ToStored(), new StoredEvent(1, JobEventCodec.Encode(queued))); // durable before acknowledged
        return new SubmitResult(SubmitStatus.Queued, id, number, ahead, validation);
    }

    private async Task ClaimLoopAsync()
    {
        var options = Options.Shared!;
        if (!options.Claims) return;
        while (!_stop.IsCancellationRequested)
        {
            ClaimedJob? claimed = null;
            try
            {
                claimed = _shared!.Claim(options.WorkerId, options.Lease);
                SharedStoreProblem?.Invoke(null);
            }
            catch (Exception e) when (e is JobStoreException or IOException)
            {
                SharedStoreProblem?.Invoke(e.Message);
            }
            if (claimed is null)
            {
                try { await _pendingSignal.WaitAsync(options.PollInterval, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            await _executionLock.WaitAsync().ConfigureAwait(false);
            try { await RunClaimedAsync(claimed).ConfigureAwait(false); }
            finally { _executionLock.Release(); }
        }
    }

    private async Task RunClaimedAsync(ClaimedJob claimed)
    {
        var stored = claimed.Job;
        var workflow = ReadWorkflow(stored.Workflow);
        var validation = workflow is null
            ? ValidationResult.Failed(new ValidationError(ValidationErrorTypes.InvalidPrompt, "The stored workflow could not be read.", ""))
            : Validate(workflow, StoredJobCodec.Targets(stored.OutputTargets));
        Job job;
        if (validation.Graph is { } graph && (validation.IsValid || Options.AllowPartialOutputs))
            job = Job.ForRestoredGraph(stored, graph, ReadJson(stored.ExtraData) as JsonObject ?? new JsonObject(), _clock);
        else
        {
            // Another node accepted it, but it does not validate here (a node or model this worker lacks): it fails.
            job = Restored(stored, workflow ?? WorkflowFormat.ApiWorkflow.FromJson(new JsonObject()), OutputIdsOf(stored));
            var (nodeId, classType, error) = validation.AllErrors().OrderBy(e => e.NodeId is null).FirstOrDefault();
            var failure = new JobRunResult(JobStatus.Failed, new Dictionary<string, IReadOnlyDictionary<string, object?>>(), [],
                new JobError(nodeId, classType, error?.Type ?? ValidationErrorTypes.InvalidPrompt,
                    error is null ? "The workflow does not validate on this worker." : $"{error.Message} {error.Details}".Trim(),
                    new Dictionary<string, string>()), null);
            job.EventBase = claimed.LastEventSequence;
            job.StartedAt = stored.StartedAt ?? _clock.GetUtcNow();
            job.Status = JobStatus.Failed;
            job.Result = failure;
            job.FinishedAt = _clock.GetUtcNow();
            job.Compact();
            await CompleteSharedAsync(job, TerminalEvent(failure), written: 0).ConfigureAwait(false);
            return;
        }
        job.EventBase = claimed.LastEventSequence;
        job.Status = JobStatus.Running;
        job.StartedAt = stored.StartedAt ?? _clock.GetUtcNow();
        lock (_gate)
        {
            _jobs[job.Id] = job; // only while it runs here, so that Cancel finds it
            _running = job;
        }
        try { await RunJobAsync(job).ConfigureAwait(false); }
        finally
        {
            lock (_gate)
            {
                _jobs.Remove(job.Id);
                if (job.ClientRequestId is { } key) _byRequestId.Remove(key);
            }
            job.Cancellation.Dispose();
        }
    }

    /// <summary>While the job runs: renews its lease and stores its events every flush interval. Returns how many it stored.</summary>
    private async Task<int> HeartbeatAsync(Job job, CancellationToken done)
    {
        var options = Options.Shared!;
        var written = 0;
        var lastRenewal = Stopwatch.StartNew();
        while (!done.IsCancellationRequested)
        {
            try { await Task.Delay(options.EventFlushInterval, done).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            try
            {
                var fresh = job.Events.Snapshot(written + 1).Where(e => !e.IsTerminal).ToArray();
                if (fresh.Length > 0)
                {
                    _shared!.AppendEvents(job.Id, options.WorkerId, fresh.Select(e => Stored(job, e)).ToArray());
                    written += fresh.Length;
                }
                if (lastRenewal.Elapsed < options.Heartbeat) continue;
                var state = _shared!.Renew(job.Id, options.WorkerId, options.Lease);
                lastRenewal.Restart();
                SharedStoreProblem?.Invoke(null);
                if (state == LeaseState.Held) continue;
                if (state == LeaseState.CancelRequested) job.CancelRequested = true;
                else job.LeaseLost = true;
                job.Cancellation.Cancel();
            }
            catch (Exception e) when (e is JobStoreException or IOException) { SharedStoreProblem?.Invoke(e.Message); }
        }
        return written;
    }

    /// <summary>
    /// Stores the job's outcome with its remaining events in one fenced transaction, retrying while the database is
    /// unreachable until the lease would have expired anyway (then another worker runs the job again). A job
    /// cancelled because this node is stopping is handed back instead.
    /// </summary>
    private async Task CompleteSharedAsync(Job job, JobEvent terminal, int written)
    {
        var options = Options.Shared!;
        var handBack = job.Status == JobStatus.Cancelled && !job.CancelRequested && (_disposed || job.LeaseLost);
        var events = job.Events.Snapshot(written + 1).Where(e => !e.IsTerminal)
            .Append(terminal with { JobId = job.Id, Sequence = job.Events.Count + 1, Timestamp = _clock.GetUtcNow() })
            .Select(e => Stored(job, e)).ToArray();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (job.LeaseLost) { LeaseLost?.Invoke(job.Id); return; }
                if (handBack) { _shared!.Release(job.Id, options.WorkerId); return; }
                // History is pruned with every PruneEvery-th completion of this node (a prune scans the kept history).
                var prune = Interlocked.Read(ref _sharedCompletions) % PruneEvery == 0 ? Options.HistorySize : int.MaxValue;
                if (_shared!.Complete(job.ToStored(), options.WorkerId, events, prune)) Interlocked.Increment(ref _sharedCompletions);
                else LeaseLost?.Invoke(job.Id);
                SharedStoreProblem?.Invoke(null);
                return;
            }
            catch (Exception e) when (e is JobStoreException or IOException)
            {
                SharedStoreProblem?.Invoke(e.Message);
                if (deadline.Elapsed > options.Lease)
                {
                    StoreWriteFailed?.Invoke(job.Id, e);
                    return;
                }
                await Task.Delay(options.Heartbeat).ConfigureAwait(false);
            }
        }
    }

    private static StoredEvent Stored(Job job, JobEvent e) => new(job.EventBase + e.Sequence, JobEventCodec.Encode(e));

    private bool CancelShared(string jobId)
    {
        lock (_gate)
        {
            if (_running is { } running && running.Id == jobId)
            {
                running.CancelRequested = true;
                running.Cancellation.Cancel();
                return true;
            }
        }
        if (_shared!.CancelPending(jobId, _clock.GetUtcNow())) { _telemetry?.JobEndedWithoutRunning(JobStatus.Cancelled); return true; }
        return _shared.RequestCancel(jobId);
    }

    /// <summary>A job's events from the store: replayed from <paramref name="fromSequence"/>, then live until its terminal event.</summary>
    private async IAsyncEnumerable<JobEvent> SharedEventsAsync(string jobId, long fromSequence,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var options = Options.Shared!;
        var next = Math.Max(fromSequence, 1);
        while (true)
        {
            var stored = Volatile.Read(ref _eventsStored).Task; // taken before reading, so a change after the read wakes us
            var events = next == long.MaxValue ? [] : _shared!.Events(jobId, next - 1);
            foreach (var row in events)
            {
                var e = JobEventCodec.Decode(jobId, row.Sequence, row.Body);
                next = row.Sequence + 1;
                yield return e;
                if (e.IsTerminal) yield break;
            }
            if (events.Count == 0)
            {
                // A job that ended without a stored terminal event (cancelled while pending, or a reader that only waits).
                var job = _shared!.Find(jobId);
                if (job is null) yield break;
                if (job.IsFinished && (next == long.MaxValue || _shared.Events(jobId, next - 1).Count == 0))
                {
                    var result = new JobRunResult(job.Status, StoredJobCodec.Outputs(job.Outputs), [], StoredJobCodec.Error(job.Error), job.CancelledAtNode);
                    yield return TerminalEvent(result) with { JobId = jobId, Sequence = next, Timestamp = job.FinishedAt ?? _clock.GetUtcNow() };
                    yield break;
                }
            }
            try { await stored.WaitAsync(options.PollInterval, cancellationToken).ConfigureAwait(false); }
            catch (TimeoutException) { }
        }
    }

    private JobSnapshot SnapshotOf(StoredJob stored) => new(
        stored.Id, stored.Status, stored.Number, stored.ClientRequestId, stored.CreatedAt, stored.StartedAt, stored.FinishedAt,
        OutputIdsOf(stored), PlainValues.Outputs(StoredJobCodec.Outputs(stored.Outputs)), StoredJobCodec.Error(stored.Error), StoredJobCodec.Timings(stored.Timings),
        stored.CancelledAtNode, 0, null, null, JobRequestText.From(stored.Workflow, stored.ExtraData));

    private QueueSnapshot SharedQueue()
    {
        var unfinished = _shared!.Unfinished();
        var running = unfinished.Where(j => j.Status == JobStatus.Running).Select(SnapshotOf).ToArray();
        return new QueueSnapshot(running.FirstOrDefault(), unfinished.Where(j => j.Status == JobStatus.Pending).Select(SnapshotOf).ToArray())
        {
            AllRunning = running,
        };
    }

    /// <summary>Stops claiming, lets the running job finish for up to the drain timeout, then cancels it (it is handed back).</summary>
    private async ValueTask DisposeSharedAsync()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _shared!.Changed -= OnSharedChange;
        _stop.Cancel();
        try { await _loop.WaitAsync(Options.Shared!.DrainTimeout).ConfigureAwait(false); }
        catch (TimeoutException)
        {
            lock (_gate) _running?.Cancellation.Cancel();
            await _loop.ConfigureAwait(false);
        }
        await _executionLock.WaitAsync().ConfigureAwait(false);
        try { await _thread.RunAsync(_cache.Clear).ConfigureAwait(false); }
        catch (ObjectDisposedException) { /* a host-owned thread may already be gone */ }
        if (_ownsThread) _thread.Dispose();
        _stop.Dispose();
    }
}
