using System.Runtime.CompilerServices;

namespace CharacterGen.GraphRuntime.Events;

/// <summary>
/// The ordered events of one job, kept while the job is queued, running or in history. Appending
/// never waits on readers: subscribers read from the log at their own pace, so a slow one falls
/// behind without losing events or slowing execution.
/// </summary>
public sealed class JobEventLog(string jobId, TimeProvider? clock = null)
{
    private readonly List<JobEvent> _events = [];
    private readonly object _gate = new();
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private TaskCompletionSource? _changed; // created only while someone waits
    private bool _complete;

    public string JobId { get; } = jobId;

    public int Count
    {
        get { lock (_gate) return _events.Count; }
    }

    /// <summary>True once a terminal event has been appended.</summary>
    public bool IsComplete
    {
        get { lock (_gate) return _complete; }
    }

    /// <summary>Stamps the event with job id, next sequence number and time, and stores it.</summary>
    public JobEvent Append(JobEvent e)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_complete) throw new InvalidOperationException($"Job {JobId} already ended; cannot append {e.GetType().Name}.");
            e = e with { JobId = JobId, Sequence = _events.Count + 1, Timestamp = _clock.GetUtcNow() };
            _events.Add(e);
            _complete = e.IsTerminal;
            wake = _changed;
            _changed = null;
        }
        wake?.TrySetResult();
        return e;
    }

    /// <summary>
    /// Replaces each progress event that carries a preview by the same event without it (same sequence and time):
    /// history keeps a finished job's events, not its images.
    /// </summary>
    public void DropPreviews()
    {
        lock (_gate)
        {
            for (var i = 0; i < _events.Count; i++)
                if (_events[i] is NodeProgress { Preview: not null } progress) _events[i] = progress with { Preview = null };
            _events.TrimExcess();
        }
    }

    /// <summary>The events with sequence ≥ <paramref name="fromSequence"/> present now.</summary>
    public IReadOnlyList<JobEvent> Snapshot(long fromSequence = 1)
    {
        lock (_gate)
        {
            var start = (int)Math.Clamp(fromSequence - 1, 0, _events.Count);
            return _events.GetRange(start, _events.Count - start);
        }
    }

    /// <summary>
    /// Every event from <paramref name="fromSequence"/> on, in order, waiting for new ones until the
    /// terminal event has been read (or <paramref name="cancellationToken"/> fires).
    /// </summary>
    public async IAsyncEnumerable<JobEvent> ReadAsync(long fromSequence = 1,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var next = (int)Math.Clamp(fromSequence - 1, 0, int.MaxValue);
        while (true)
        {
            JobEvent[] batch;
            Task? wait = null;
            bool complete;
            lock (_gate)
            {
                batch = next < _events.Count ? _events.GetRange(next, _events.Count - next).ToArray() : [];
                complete = _complete;
                if (batch.Length == 0 && !complete) wait = (_changed ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            foreach (var e in batch)
            {
                next++;
                yield return e;
            }
            if (batch.Length == 0 && complete) yield break;
            if (wait is not null) await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
