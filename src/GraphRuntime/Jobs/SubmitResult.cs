using CharacterGen.GraphRuntime.Validation;

namespace CharacterGen.GraphRuntime.Jobs;

public enum SubmitStatus
{
    /// <summary>Queued (or, for a repeated client request id, the job already known).</summary>
    Queued,
    /// <summary>Refused by validation; see <see cref="SubmitResult.Validation"/>.</summary>
    Invalid,
    /// <summary>Refused because the queue is at capacity; retry later.</summary>
    QueueFull,
}

/// <summary>The answer to a submission.</summary>
public sealed record SubmitResult(SubmitStatus Status, string? JobId, double Number, int Position, ValidationResult? Validation, bool Existing = false)
{
    public const string QueueFullErrorType = "queue_full";

    public bool Accepted => Status == SubmitStatus.Queued;
}
