using System.Diagnostics;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.Observability;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Engine;

/// <summary>
/// The graph runtime's facade: validate, queue, run (one job at a time, every node call of a job on
/// the execution thread), cancel per job, and stream each job's events. Transports call only this.
/// With an <see cref="IJobStore"/>, jobs, queue order and history survive a restart (see WorkflowEngine.Durability.cs).
/// </summary>
public sealed partial class WorkflowEngine : IAsyncDisposable, IDisposable
{
    private readonly object _gate = new();
    private readonly JobQueue _queue;
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byRequestId = new(StringComparer.Ordinal);
    private readonly LinkedList<Job> _history = new(); // oldest first
    private readonly Queue<Job> _withPreviews = new(); // finished jobs whose previews are still kept, oldest first
    private readonly SemaphoreSlim _pendingSignal = new(0);
    private readonly SemaphoreSlim _executionLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly IExecutionThread _thread;
    private readonly bool _ownsThread;
    private readonly OutputCache _cache;
    private readonly GraphExecutor _executor;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly Task _loop;
    private readonly IJobStore? _store;
    private readonly Telemetry? _telemetry;
    private Job? _running;
    private long _arrivals;
    private bool _disposed; // also: cancellations from here on are the engine's stopping, not a client's, and are not stored

    public WorkflowEngine(NodeCatalog catalog, EngineOptions? options = null, IServiceProvider? services = null,
        IExecutionThread? executionThread = null, TimeProvider? clock = null, IJobStore? store = null, Telemetry? telemetry = null)
    {
        Options = options ?? EngineOptions.Default;
        Options.Validate();
        Catalog = catalog;
        _services = services ?? NoServices.Instance;
        _clock = clock ?? TimeProvider.System;
        _ownsThread = executionThread is null;
        _thread = executionThread ?? new DedicatedExecutionThread();
        _queue = new JobQueue(Options.QueueCapacity);
        _cache = new OutputCache(Options.CacheSize);
        _executor = new GraphExecutor(_cache, _services);
        _store = store;
        _telemetry = telemetry;
        telemetry?.ObserveQueueDepth(() => { lock (_gate) return _queue.Count; });
        if (Options.Shared is not null)
        {
            _shared = store as ISharedJobStore ?? throw new ArgumentException("A shared queue needs a store that several nodes can share.", nameof(store));
            _shared.Changed += OnSharedChange;
            _loop = Task.Run(ClaimLoopAsync);
            return;
        }
        if (store is not null) Restore(store);
        _loop = Task.Run(RunLoopAsync);
    }

    public NodeCatalog Catalog { get; }
    public EngineOptions Options { get; }

    /// <summary>Reads API- or UI-format workflow JSON (strict, within the JSON limits).</summary>
    /// <exception cref="WorkflowFormatException">Not readable as a workflow.</exception>
    public ApiWorkflow Parse(string json) => WorkflowLoader.Load(json, Catalog, Options.Json);

    public ValidationResult Validate(ApiWorkflow workflow, IReadOnlyCollection<string>? outputTargets = null) =>
        WorkflowValidator.Validate(workflow, Catalog, ValidationOptionsFor(outputTargets));

    /// <summary>Parses and validates; unreadable JSON becomes an invalid_prompt result.</summary>
    public ValidationResult Validate(string json)
    {
        try { return Validate(Parse(json)); }
        catch (WorkflowFormatException ex) { return InvalidPrompt(ex); }
    }

    public SubmitResult Submit(string json, SubmitOptions? options = null)
    {
        ApiWorkflow workflow;
        try { workflow = Parse(json); }
        catch (WorkflowFormatException ex) { return new SubmitResult(SubmitStatus.Invalid, null, 0, 0, InvalidPrompt(ex)); }
        return Submit(workflow, options);
    }

    /// <summary>Validates and queues. Nothing runs when validation fails.</summary>
    public SubmitResult Submit(ApiWorkflow workflow, SubmitOptions? options = null)
    {
        options ??= SubmitOptions.Default;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_shared is null && options.ClientRequestId is { } known && Existing(known) is { } previous) return previous;
        return Submit(Validate(workflow, options.OutputTargets), options);
    }

    /// <summary>
    /// Queues a workflow that <see cref="Validate(ApiWorkflow, IReadOnlyCollection{string}?)"/> already
    /// checked (for transports that report validation first); refused unless it is runnable.
    /// </summary>
    public SubmitResult Submit(ValidationResult validation, SubmitOptions? options = null)
    {
        options ??= SubmitOptions.Default;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (validation.Graph is null || (!validation.IsValid && !Options.AllowPartialOutputs))
            return new SubmitResult(SubmitStatus.Invalid, null, 0, 0, validation);
        if (_shared is not null) return SubmitShared(validation, options);

        lock (_gate)
        {
            if (options.ClientRequestId is { } key && _byRequestId.TryGetValue(key, out var raced))
                return Accepted(_jobs[raced], existing: true, validation);
            if (_queue.IsFull) return new SubmitResult(SubmitStatus.QueueFull, null, 0, 0, validation);

            var id = options.JobId ?? Guid.NewGuid().ToString();
            if (_jobs.ContainsKey(id)) throw new ArgumentException($"Job id '{id}' is already in use.", nameof(options));
            var order = ++_arrivals;
            var number = options.Number ?? (options.Front ? -order : order);
            var job = Job.ForGraph(id, number, order, options.ClientRequestId, validation.Graph, options.OutputTargets,
                (JsonObject?)options.ExtraData?.DeepClone() ?? new JsonObject(), _clock.GetUtcNow(), _clock);
            job.SubmittedFrom = Activity.Current?.Context ?? default; // the job's span is a child of the submitting request's
            _store?.Add(job.ToStored()); // durable before it is acknowledged; a failure refuses the submission
            var position = _queue.Enqueue(job);
            _jobs[id] = job;
            if (options.ClientRequestId is { } requestId) _byRequestId[requestId] = id;
            job.Events.Append(new JobQueued(position));
            _pendingSignal.Release();
            return new SubmitResult(SubmitStatus.Queued, id, number, position, validation);
        }
    }

    /// <summary>
    /// Cancels one job: a pending one leaves the queue; a running one stops at its next node boundary
    /// or progress tick. False when the job is unknown or already finished.
    /// </summary>
    public bool Cancel(string jobId)
    {
        if (_shared is not null) return CancelShared(jobId);
        Job? removed = null;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job)) return false;
            switch (job.Status)
            {
                case JobStatus.Running:
                    job.CancelRequested |= !_disposed;
                    job.Cancellation.Cancel();
                    return true;
                case JobStatus.Pending when _queue.Remove(job):
                    job.CancelRequested |= !_disposed;
                    job.Status = JobStatus.Cancelled;
                    job.FinishedAt = _clock.GetUtcNow();
                    job.Result = new JobRunResult(JobStatus.Cancelled, new Dictionary<string, IReadOnlyDictionary<string, object?>>(), [], null, null);
                    AddToHistory(job);
                    removed = job;
                    break;
                default:
                    return false;
            }
        }
        removed.Events.Append(new JobCancelled(null));
        _telemetry?.JobEndedWithoutRunning(JobStatus.Cancelled);
        return true;
    }

    public JobSnapshot? GetJob(string jobId)
    {
        if (_shared is not null) return _shared.Find(jobId) is { } stored ? SnapshotOf(stored) : null;
        lock (_gate) return _jobs.TryGetValue(jobId, out var job) ? job.Snapshot() : null;
    }

    /// <summary>Running, then pending in run order, then finished newest first.</summary>
    public IReadOnlyList<JobSnapshot> ListJobs()
    {
        if (_shared is not null)
        {
            var queue = SharedQueue();
            return [.. queue.AllRunning, .. queue.Pending, .. _shared.Finished(Options.HistorySize).Reverse().Select(SnapshotOf)];
        }
        lock (_gate)
        {
            var all = new List<JobSnapshot>();
            if (_running is not null) all.Add(_running.Snapshot());
            all.AddRange(_queue.Snapshot().Select(j => j.Snapshot()));
            all.AddRange(_history.Reverse().Select(j => j.Snapshot()));
            return all;
        }
    }

    public QueueSnapshot Queue
    {
        get
        {
            if (_shared is not null) return SharedQueue();
            lock (_gate) return new QueueSnapshot(_running?.Snapshot(), _queue.Snapshot().Select(j => j.Snapshot()).ToArray());
        }
    }

    /// <summary>Finished jobs, oldest first (ComfyUI's history order).</summary>
    public IReadOnlyList<JobSnapshot> History
    {
        get
        {
            if (_shared is not null) return _shared.Finished(Options.HistorySize).Select(SnapshotOf).ToArray();
            lock (_gate) return _history.Select(j => j.Snapshot()).ToArray();
        }
    }

    /// <summary>Removes finished jobs from history (all when <paramref name="jobIds"/> is null).</summary>
    public void DeleteHistory(IEnumerable<string>? jobIds = null)
    {
        if (_shared is not null)
        {
            var finished = _shared.Finished(int.MaxValue).Select(j => j.Id);
            _shared.Delete((jobIds is null ? finished : finished.Intersect(jobIds)).ToArray());
            return;
        }
        lock (_gate)
        {
            var doomed = jobIds is null ? _history.ToList() : _history.Where(j => jobIds.Contains(j.Id)).ToList();
            if (_store is not null && doomed.Count > 0) Persist(doomed[0].Id, () => _store.Delete(doomed.Select(j => j.Id).ToArray()));
            foreach (var job in doomed) Forget(job);
        }
    }

    /// <summary>
    /// The job's events from <paramref name="fromSequence"/> on, in order and without gaps, ending
    /// with its terminal event. Works for queued, running and finished (in history) jobs.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown job, or dropped from history.</exception>
    public IAsyncEnumerable<JobEvent> Subscribe(string jobId, long fromSequence = 1, CancellationToken cancellationToken = default)
    {
        if (_shared is not null)
        {
            if (_shared.Find(jobId) is null) throw new KeyNotFoundException($"Job '{jobId}' is unknown.");
            return SharedEventsAsync(jobId, fromSequence, cancellationToken);
        }
        JobEventLog log;
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job)) throw new KeyNotFoundException($"Job '{jobId}' is unknown.");
            log = job.Events;
        }
        return log.ReadAsync(fromSequence, cancellationToken);
    }

    /// <summary>Waits until the job has finished and returns its final state.</summary>
    public async Task<JobSnapshot> WaitAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await foreach (var _ in Subscribe(jobId, long.MaxValue, cancellationToken).ConfigureAwait(false)) { }
        return GetJob(jobId) ?? throw new KeyNotFoundException($"Job '{jobId}' left history before it could be read.");
    }

    /// <summary>Entries in the output cache now.</summary>
    public int CachedEntryCount => _cache.Count;

    /// <summary>Empties the output cache (disposing its values) between jobs: ComfyUI's /free.</summary>
    public async Task FreeAsync(CancellationToken cancellationToken = default)
    {
        await _executionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { await _thread.RunAsync(_cache.Clear).ConfigureAwait(false); }
        finally { _executionLock.Release(); }
    }

    private async Task RunLoopAsync()
    {
        while (true)
        {
            try { await _pendingSignal.WaitAsync(_stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }

            await _executionLock.WaitAsync().ConfigureAwait(false);
            try
            {
                Job? job;
                lock (_gate)
                {
                    job = _queue.Dequeue();
                    if (job is null) continue; // it was cancelled while pending
                    job.Status = JobStatus.Running;
                    job.StartedAt = _clock.GetUtcNow();
                    _running = job;
                    if (_store is not null) Persist(job.Id, () => _store.MarkRunning(job.Id, job.StartedAt.Value));
                }
                await RunJobAsync(job).ConfigureAwait(false);
            }
            finally
            {
                _executionLock.Release();
            }
        }
    }

    private async Task RunJobAsync(Job job)
    {
        job.Events.Append(new JobStarted());
        JobRunResult? result = null;
        var trace = _telemetry?.StartJob(job.Id, job.SubmittedFrom, job.CreatedAt, job.StartedAt!.Value);
        var request = new JobRunRequest(job.Id, job.Graph!, job.ExtraData, job.Events, job.Cancellation.Token, trace);
        using var ran = new CancellationTokenSource();
        var heartbeat = _shared is null ? Task.FromResult(0) : HeartbeatAsync(job, ran.Token);
        try
        {
            await _thread.RunAsync(() => result = _executor.Run(request)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            result = new JobRunResult(JobStatus.Failed, new Dictionary<string, IReadOnlyDictionary<string, object?>>(), [],
                new JobError(null, null, ex.GetType().Name, ex.Message, new Dictionary<string, string>(), ex), null);
        }

        lock (_gate)
        {
            job.Status = result!.Status;
            job.Result = result;
            job.FinishedAt = _clock.GetUtcNow();
            _running = null;
            if (_shared is null) AddToHistory(job);
            else job.Compact();
        }
        var terminal = TerminalEvent(result);
        if (_shared is not null)
        {
            await ran.CancelAsync().ConfigureAwait(false);
            await CompleteSharedAsync(job, terminal, await heartbeat.ConfigureAwait(false)).ConfigureAwait(false);
        }
        trace?.Finish(result);
        job.Events.Append(terminal);
    }

    /// <summary>Moves a finished job into history, evicting what its bounds no longer allow, in memory and in the store.</summary>
    private void AddToHistory(Job job)
    {
        job.Compact();
        _history.AddLast(job);
        _withPreviews.Enqueue(job);
        DropOldPreviews();
        var evicted = HistoryOverflow();
        if (_store is not null && (job.CancelRequested || job.Status != JobStatus.Cancelled || !_disposed))
            Persist(job.Id, () => _store.Finish(job.ToStored(), evicted.Select(j => j.Id).ToArray()));
        foreach (var old in evicted) Forget(old);
    }

    /// <summary>
    /// How long a finished job keeps the preview images of its progress events, for streams and relays still reading
    /// them; after that its events are replayed with the progress ticks but without images.
    /// </summary>
    public static readonly TimeSpan PreviewRetention = TimeSpan.FromMinutes(1);

    private void DropOldPreviews()
    {
        var cutoff = _clock.GetUtcNow() - PreviewRetention;
        while (_withPreviews.TryPeek(out var job) && (job.FinishedAt <= cutoff || !_jobs.ContainsKey(job.Id)))
            _withPreviews.Dequeue().Events.DropPreviews();
    }

    private void Forget(Job job)
    {
        _history.Remove(job);
        _jobs.Remove(job.Id);
        if (job.ClientRequestId is { } key) _byRequestId.Remove(key);
        job.Cancellation.Dispose();
    }

    private SubmitResult? Existing(string clientRequestId)
    {
        lock (_gate)
            return _byRequestId.TryGetValue(clientRequestId, out var id) ? Accepted(_jobs[id], existing: true, null) : null;
    }

    private SubmitResult Accepted(Job job, bool existing, ValidationResult? validation) =>
        new(SubmitStatus.Queued, job.Id, job.Number, PositionOf(job), validation, existing);

    private int PositionOf(Job job) => job.Status == JobStatus.Pending ? _queue.Snapshot().ToList().IndexOf(job) : 0;

    private ValidationOptions ValidationOptionsFor(IReadOnlyCollection<string>? outputTargets) => new()
    {
        MaxNodes = Options.MaxNodes,
        CostBudget = Options.CostBudget,
        AllowPartialOutputs = Options.AllowPartialOutputs,
        OutputTargets = outputTargets,
        Services = _services,
    };

    private static ValidationResult InvalidPrompt(WorkflowFormatException ex) =>
        ValidationResult.Failed(new ValidationError(ValidationErrorTypes.InvalidPrompt, "Cannot execute because the workflow could not be read.", ex.Message));

    /// <summary>Cancels the running job and every pending one (so that subscribers finish), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_shared is not null)
        {
            await DisposeSharedAsync().ConfigureAwait(false);
            return;
        }
        List<Job> pending;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _running?.Cancellation.Cancel();
            pending = _queue.Snapshot().ToList();
        }
        foreach (var job in pending) Cancel(job.Id);
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        await _executionLock.WaitAsync().ConfigureAwait(false);
        try { await _thread.RunAsync(_cache.Clear).ConfigureAwait(false); }
        catch (ObjectDisposedException) { /* a host-owned thread may already be gone */ }
        if (_ownsThread) _thread.Dispose();
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
