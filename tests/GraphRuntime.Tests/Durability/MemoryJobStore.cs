using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Tests.Durability;

/// <summary>
/// A job store in a dictionary, standing for a database that outlives the engine: a second engine made over the
/// same instance sees what the first one wrote. <see cref="FailWrites"/> makes every write throw.
/// </summary>
internal sealed class MemoryJobStore : IJobStore
{
    private readonly Dictionary<string, StoredJob> _rows = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public bool FailWrites { get; set; }
    public List<string> Log { get; } = [];

    public StoredJob? this[string id]
    {
        get { lock (_gate) return _rows.GetValueOrDefault(id); }
    }

    public int Count
    {
        get { lock (_gate) return _rows.Count; }
    }

    public StoredJobs Load()
    {
        lock (_gate)
            return new StoredJobs(
                _rows.Values.Where(j => !j.IsFinished).OrderBy(j => j.Number).ThenBy(j => j.Order).ToArray(),
                _rows.Values.Where(j => j.IsFinished).OrderBy(j => j.FinishedAt).ThenBy(j => j.Order).ToArray());
    }

    public void Add(StoredJob job) => Write($"add {job.Id}", () =>
    {
        if (_rows.ContainsKey(job.Id)) throw new JobStoreException($"duplicate {job.Id}");
        _rows[job.Id] = job;
    });

    public void MarkRunning(string jobId, DateTimeOffset startedAt) => Write($"running {jobId}", () =>
        _rows[jobId] = _rows[jobId] with { Status = Execution.JobStatus.Running, StartedAt = startedAt });

    public void Finish(StoredJob job, IReadOnlyCollection<string> evicted) => Write($"finish {job.Id}", () =>
    {
        _rows[job.Id] = job;
        foreach (var id in evicted) _rows.Remove(id);
    });

    public void Delete(IReadOnlyCollection<string> jobIds) => Write($"delete {string.Join(",", jobIds)}", () =>
    {
        foreach (var id in jobIds) _rows.Remove(id);
    });

    private void Write(string what, Action change)
    {
        lock (_gate)
        {
            if (FailWrites) throw new JobStoreException("disk full (test)");
            change();
            Log.Add(what);
        }
    }
}
