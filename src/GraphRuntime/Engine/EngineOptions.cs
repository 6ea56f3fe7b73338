using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Validation;

namespace CharacterGen.GraphRuntime.Engine;

/// <summary>Limits and sizes of a <see cref="WorkflowEngine"/>, with named defaults. Check with <see cref="Validate"/>.</summary>
public sealed record EngineOptions
{
    public const int DefaultQueueCapacity = 100;
    public const int DefaultHistorySize = 1000;
    public const int DefaultCacheSize = 256;

    /// <summary>Pending jobs allowed; one more is refused with <see cref="SubmitStatus.QueueFull"/>.</summary>
    public int QueueCapacity { get; init; } = DefaultQueueCapacity;
    /// <summary>Finished jobs kept (with outputs, errors, timings and events); the oldest is dropped.</summary>
    public int HistorySize { get; init; } = DefaultHistorySize;
    /// <summary>Finished jobs older than this are dropped from history (and from the job store); null = no age limit.</summary>
    public TimeSpan? HistoryMaxAge { get; init; }
    /// <summary>Node outputs kept between jobs (entries, least recently used evicted first).</summary>
    public int CacheSize { get; init; } = DefaultCacheSize;
    /// <summary>The summed cost estimate above which a workflow is refused; null = unlimited.</summary>
    public double? CostBudget { get; init; }
    /// <summary>Nodes per workflow.</summary>
    public int MaxNodes { get; init; } = ValidationOptions.DefaultMaxNodes;
    public JsonLimits Json { get; init; } = JsonLimits.Default;
    /// <summary>Run the outputs that validated when others did not (ComfyUI); default: refuse the workflow.</summary>
    public bool AllowPartialOutputs { get; init; }
    /// <summary>One node of several sharing the store's queue (PostgreSQL); null = this engine owns its queue alone.</summary>
    public SharedQueueOptions? Shared { get; init; }

    public static EngineOptions Default { get; } = new();

    public void Validate()
    {
        if (QueueCapacity < 1) throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "must be at least 1");
        if (HistorySize < 0) throw new ArgumentOutOfRangeException(nameof(HistorySize), HistorySize, "must not be negative");
        if (HistoryMaxAge is { } age && age <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(HistoryMaxAge), HistoryMaxAge, "must be positive");
        if (CacheSize < 0) throw new ArgumentOutOfRangeException(nameof(CacheSize), CacheSize, "must not be negative");
        if (MaxNodes < 1) throw new ArgumentOutOfRangeException(nameof(MaxNodes), MaxNodes, "must be at least 1");
        if (CostBudget is { } b && (double.IsNaN(b) || b < 0))
            throw new ArgumentOutOfRangeException(nameof(CostBudget), CostBudget, "must be a non-negative number");
        Shared?.Validate();
        ArgumentNullException.ThrowIfNull(Json);
        Json.Validate();
    }
}
