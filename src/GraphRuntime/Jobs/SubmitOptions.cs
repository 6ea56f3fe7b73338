using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>How to queue a job (the parts of ComfyUI's POST /prompt body besides the prompt).</summary>
public sealed record SubmitOptions
{
    /// <summary>Go to the front of the queue (ComfyUI's "front").</summary>
    public bool Front { get; init; }
    /// <summary>Explicit priority, lower runs first (ComfyUI's "number"); default: arrival order.</summary>
    public double? Number { get; init; }
    /// <summary>Idempotency key: resubmitting with a key the engine still remembers returns that job.</summary>
    public string? ClientRequestId { get; init; }
    /// <summary>The job id to use (ComfyUI's prompt_id); default: a new lowercase UUID. Must be unused.</summary>
    public string? JobId { get; init; }
    /// <summary>ComfyUI's extra_data (extra_pnginfo, client_id, ...), visible to nodes.</summary>
    public JsonObject? ExtraData { get; init; }
    /// <summary>ComfyUI's partial_execution_targets: only these output nodes run.</summary>
    public IReadOnlyCollection<string>? OutputTargets { get; init; }

    public static SubmitOptions Default { get; } = new();
}
