namespace CharacterGen.GraphRuntime.Validation;

/// <summary>Knobs of <see cref="WorkflowValidator"/>.</summary>
public sealed record ValidationOptions
{
    public const int DefaultMaxNodes = 5000;

    /// <summary>More nodes than this → invalid_prompt, before any node is looked at.</summary>
    public int MaxNodes { get; init; } = DefaultMaxNodes;

    /// <summary>The summed cost estimate above which a workflow is refused; null = no budget.</summary>
    public double? CostBudget { get; init; }

    /// <summary>
    /// ComfyUI runs the outputs that validated and drops the rest (a 200 with node_errors).
    /// False (the default) refuses the whole workflow when any output fails.
    /// </summary>
    public bool AllowPartialOutputs { get; init; }

    /// <summary>ComfyUI's partial_execution_targets: only these output nodes (and ancestors) run.</summary>
    public IReadOnlyCollection<string>? OutputTargets { get; init; }

    /// <summary>Passed to validation, cost and fingerprint hooks.</summary>
    public IServiceProvider? Services { get; init; }

    public static ValidationOptions Default { get; } = new();
}
