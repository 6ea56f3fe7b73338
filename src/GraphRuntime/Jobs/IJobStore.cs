namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// Where the engine keeps its jobs so that a crash loses nothing it acknowledged: a job is written before its
/// submission is answered, its start and its final state (with the outputs index) as they happen. The engine calls
/// these one at a time, under its own lock; an implementation makes each call atomic and durable before it returns
/// and throws <see cref="JobStoreException"/> when it cannot. Plain records and JSON text only, so the runtime
/// depends on no database (SQLite and PostgreSQL implementations live in the server).
/// </summary>
public interface IJobStore
{
    /// <summary>Everything kept: unfinished jobs (pending or running) and finished ones, at start-up.</summary>
    StoredJobs Load();

    /// <summary>Records a new pending job. Its id and client request id (when set) are unused.</summary>
    void Add(StoredJob job);

    /// <summary>The job left the queue and started running.</summary>
    void MarkRunning(string jobId, DateTimeOffset startedAt);

    /// <summary>
    /// Records the job's final state (status, times, outputs, error, timings) and, in the same transaction, forgets
    /// the finished jobs <paramref name="evicted"/> from history (so history never holds more than its bound).
    /// </summary>
    void Finish(StoredJob job, IReadOnlyCollection<string> evicted);

    /// <summary>Forgets finished jobs (history deletion and pruning). Unknown ids are ignored.</summary>
    void Delete(IReadOnlyCollection<string> jobIds);
}

/// <summary>The store's contents: unfinished jobs in run order (number, then arrival); finished ones oldest first.</summary>
public sealed record StoredJobs(IReadOnlyList<StoredJob> Unfinished, IReadOnlyList<StoredJob> Finished);

/// <summary>A store could not read or write (database unreachable, disk full, corrupt file).</summary>
public sealed class JobStoreException(string message, Exception? inner = null) : Exception(message, inner);
