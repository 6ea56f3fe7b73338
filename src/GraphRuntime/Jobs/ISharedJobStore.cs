namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// A job store several servers share as one queue (PostgreSQL): any node adds jobs, workers claim them under a lease
/// they renew, and a worker's completion counts only while it still owns the lease (the fencing check), so a job has
/// at most one finished execution even when a worker that was thought dead comes back. Events are kept per job with
/// their sequence numbers, so a client watching through any node reads them in order. Every call is atomic and durable
/// before it returns and throws <see cref="JobStoreException"/> when it cannot.
/// </summary>
public interface ISharedJobStore : IJobStore
{
    /// <summary>Records a new pending job and its first event (queued) in one transaction, and wakes idle workers.</summary>
    void AddQueued(StoredJob job, StoredEvent queued);

    /// <summary>
    /// Takes the next job for <paramref name="workerId"/>: first one whose lease expired (its worker died), then the
    /// first pending one in run order (number, arrival); marks it running under a lease. Null when there is none.
    /// Concurrent claimers never get the same job.
    /// </summary>
    ClaimedJob? Claim(string workerId, TimeSpan lease);

    /// <summary>Extends the lease (the heartbeat); says whether the worker still owns the job and whether a client asked to cancel it.</summary>
    LeaseState Renew(string jobId, string workerId, TimeSpan lease);

    /// <summary>Stores events of a running job; ignored unless <paramref name="workerId"/> still owns it.</summary>
    void AppendEvents(string jobId, string workerId, IReadOnlyList<StoredEvent> events);

    /// <summary>
    /// Records the final state, the last events (the terminal one included) and prunes history to
    /// <paramref name="historySize"/> finished jobs, in one transaction, only if <paramref name="workerId"/> still owns
    /// the job (<see cref="int.MaxValue"/>: no pruning this time). False when it does not (another worker re-ran it,
    /// or it was deleted): nothing is written.
    /// </summary>
    bool Complete(StoredJob job, string workerId, IReadOnlyList<StoredEvent> events, int historySize);

    /// <summary>Hands a running job back to the queue (graceful drain); ignored unless the worker owns it.</summary>
    void Release(string jobId, string workerId);

    StoredJob? Find(string jobId);
    StoredJob? FindByRequestId(string clientRequestId);

    /// <summary>Running jobs (by start), then pending ones in run order.</summary>
    IReadOnlyList<StoredJob> Unfinished();

    /// <summary>The newest <paramref name="limit"/> finished jobs, oldest first.</summary>
    IReadOnlyList<StoredJob> Finished(int limit);

    int PendingCount();

    /// <summary>Cancels a job that is still pending (false when it is not).</summary>
    bool CancelPending(string jobId, DateTimeOffset at);

    /// <summary>Asks the worker running the job to cancel it at its next heartbeat (false when it is not running).</summary>
    bool RequestCancel(string jobId);

    /// <summary>The job's stored events after <paramref name="afterSequence"/>, in order.</summary>
    IReadOnlyList<StoredEvent> Events(string jobId, long afterSequence);

    /// <summary>Raised (on a background thread) when another node queued a job or stored events (live, best effort).</summary>
    event Action<SharedChange>? Changed;

    /// <summary>A cheap round trip: throws when the database cannot be reached.</summary>
    void Ping();
}

/// <summary>A claimed job and the sequence number of its last stored event (its events continue after it).</summary>
public sealed record ClaimedJob(StoredJob Job, long LastEventSequence);

/// <summary>One stored event: its sequence number in the job's stream and its JSON text.</summary>
public sealed record StoredEvent(long Sequence, string Body);

public enum LeaseState { Held, Lost, CancelRequested }

public enum SharedChangeKind { JobQueued, EventsStored }

public sealed record SharedChange(SharedChangeKind Kind, string JobId);
