namespace CharacterGen.GraphRuntime.Execution;

public enum JobStatus { Pending, Running, Succeeded, Failed, Cancelled }

/// <summary>What executing a job produced, whatever way it ended.</summary>
public sealed record JobRunResult(
    JobStatus Status,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Outputs,
    IReadOnlyList<NodeTiming> Timings,
    JobError? Error,
    string? CancelledAtNode)
{
    /// <summary>Ids of the nodes that actually executed (not served from the cache), in order.</summary>
    public IEnumerable<string> ExecutedNodes => Timings.Where(t => !t.Cached).Select(t => t.NodeId);
    public IEnumerable<string> CachedNodes => Timings.Where(t => t.Cached).Select(t => t.NodeId);
}
