namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// Pending jobs ordered by (number, arrival), bounded; a job resumed after a restart goes first. Not thread-safe: the
/// engine locks around it.
/// </summary>
internal sealed class JobQueue(int capacity)
{
    private readonly SortedSet<Job> _pending = new(Comparer<Job>.Create(static (a, b) =>
        a.Resumed != b.Resumed ? b.Resumed.CompareTo(a.Resumed)
        : a.Number != b.Number ? a.Number.CompareTo(b.Number) : a.Order.CompareTo(b.Order)));

    public int Capacity { get; } = capacity;
    public int Count => _pending.Count;
    public bool IsFull => _pending.Count >= Capacity;

    /// <summary>Adds the job and returns how many jobs are ahead of it.</summary>
    /// <param name="overCapacity">Restoring after a restart: the jobs were accepted already, even if the capacity shrank.</param>
    public int Enqueue(Job job, bool overCapacity = false)
    {
        if (IsFull && !overCapacity) throw new InvalidOperationException("The queue is full.");
        _pending.Add(job);
        return _pending.GetViewBetween(_pending.Min!, job).Count - 1;
    }

    public Job? Dequeue()
    {
        var first = _pending.Min;
        if (first is not null) _pending.Remove(first);
        return first;
    }

    public bool Remove(Job job) => _pending.Remove(job);

    public IReadOnlyList<Job> Snapshot() => _pending.ToList();
}
