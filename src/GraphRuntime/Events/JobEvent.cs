namespace CharacterGen.GraphRuntime.Events;

/// <summary>
/// One event of a job's stream. <see cref="Sequence"/> counts from 1 per job, with no gaps, so a
/// client that reconnects can resume from the last sequence it saw.
/// </summary>
public abstract record JobEvent
{
    public string JobId { get; init; } = "";
    public long Sequence { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>True for the last event of a job (succeeded, failed or cancelled).</summary>
    public virtual bool IsTerminal => false;
}

/// <summary>Accepted into the queue; <see cref="Position"/> = jobs ahead of it (0 = next).</summary>
public sealed record JobQueued(int Position) : JobEvent;

public sealed record JobStarted : JobEvent;

/// <summary>Nodes whose outputs came from the cache (ComfyUI's execution_cached); may be empty.</summary>
public sealed record NodesCached(IReadOnlyList<string> NodeIds) : JobEvent;

public sealed record NodeStarted(string NodeId, string ClassType) : JobEvent;

/// <summary>
/// A progress tick (e.g. value = step + 1, max = steps) with an optional opaque preview (e.g. PNG bytes) and optional
/// named values beyond value/max (a training step's loss, learning rate, ETA …; numbers or strings).
/// </summary>
public sealed record NodeProgress(string NodeId, double Value, double Max, object? Preview) : JobEvent
{
    public IReadOnlyDictionary<string, object?>? Details { get; init; }
}

/// <summary>A node finished; <see cref="Ui"/> is its ui output (ComfyUI's executed), also sent for cached nodes that have one.</summary>
public sealed record NodeFinished(string NodeId, string ClassType, IReadOnlyDictionary<string, object?>? Ui, bool FromCache) : JobEvent;

public sealed record JobSucceeded : JobEvent
{
    public override bool IsTerminal => true;
}

/// <summary>
/// A node threw. <see cref="ErrorType"/> is the exception's type name; <see cref="InputsSummary"/> a
/// short text per input (literals abbreviated, links by value type), never whole values.
/// </summary>
public sealed record JobFailed(string? NodeId, string? ClassType, string ErrorType, string Message,
    IReadOnlyDictionary<string, string> InputsSummary) : JobEvent
{
    public override bool IsTerminal => true;
}

/// <summary>Cancelled while pending (<see cref="NodeId"/> null) or running (the node it stopped at).</summary>
public sealed record JobCancelled(string? NodeId) : JobEvent
{
    public override bool IsTerminal => true;
}
