namespace CharacterGen.GraphRuntime.Engine;

/// <summary>
/// Makes the engine one node of several sharing an <see cref="Jobs.ISharedJobStore"/> (see WorkflowEngine.Shared.cs):
/// submissions, queue, history and events live in the store; with <see cref="Claims"/> the node also runs jobs.
/// </summary>
public sealed record SharedQueueOptions
{
    /// <summary>This node's name in the store's claimed_by column (unique per process).</summary>
    public required string WorkerId { get; init; }
    /// <summary>Whether this node claims and runs jobs (a worker) or only accepts and serves them (an API node).</summary>
    public bool Claims { get; init; } = true;
    /// <summary>How long a claim holds without a heartbeat; a dead worker's job is re-queued after this.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often an idle worker looks for work, and a watcher for events, when no notification came.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How often a running job's events are stored while it runs (the rest go with its completion).</summary>
    public TimeSpan EventFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>On shutdown, how long the running job may go on before it is cancelled and handed back to the queue.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The heartbeat renews the lease three times per lease.</summary>
    public TimeSpan Heartbeat => Lease / 3;

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(WorkerId);
        if (Lease < TimeSpan.FromMilliseconds(300)) throw new ArgumentOutOfRangeException(nameof(Lease), Lease, "must be at least 0.3 s");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "must be positive");
        if (EventFlushInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(EventFlushInterval), EventFlushInterval, "must be positive");
        if (DrainTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DrainTimeout), DrainTimeout, "must not be negative");
    }
}
