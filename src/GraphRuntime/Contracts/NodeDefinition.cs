namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>Runs one node call. Synchronous: the engine calls it on the job's execution thread.</summary>
public delegate NodeOutput NodeFunction(NodeContext context, NodeInputs inputs);

/// <summary>
/// ComfyUI's check_lazy_status: given the inputs evaluated so far (unevaluated lazy ones are null),
/// returns the names of lazy inputs the node still needs. An empty result means "ready to run".
/// </summary>
public delegate IEnumerable<string> LazyStatusFunction(NodeContext context, NodeInputs inputs);

/// <summary>
/// The contract of one node class (ComfyUI's class_type): its inputs, outputs, flags and hooks,
/// from which validation, execution and object_info are derived. Build with <see cref="NodeBuilder"/>.
/// </summary>
public sealed record NodeDefinition
{
    public required string ClassType { get; init; }
    public string? DisplayName { get; init; }
    public string Category { get; init; } = "sd";
    public string Description { get; init; } = "";
    /// <summary>object_info's python_module ("nodes" for built-ins, "custom_nodes.X" for packs).</summary>
    public string PythonModule { get; init; } = "nodes";

    /// <summary>Required, optional and hidden inputs in declaration order.</summary>
    public IReadOnlyList<InputSpec> Inputs { get; init; } = [];
    public IReadOnlyList<OutputSpec> Outputs { get; init; } = [];

    /// <summary>ComfyUI's OUTPUT_NODE: execution starts from these.</summary>
    public bool OutputNode { get; init; }
    /// <summary>ComfyUI's INPUT_IS_LIST: called once with whole lists instead of once per element.</summary>
    public bool InputIsList { get; init; }
    /// <summary>ComfyUI's NOT_IDEMPOTENT: the node id becomes part of the cache key.</summary>
    public bool NotIdempotent { get; init; }
    public bool Deprecated { get; init; }
    public bool Experimental { get; init; }
    public DynamicInputRule? DynamicInputs { get; init; }

    /// <summary>
    /// ComfyUI's VALIDATE_INPUTS: null when valid, else a message (→ custom_validation_failed).
    /// The inputs listed in <see cref="SelfValidatedInputs"/> skip the built-in min/max/combo checks.
    /// </summary>
    public Func<LiteralInputs, string?>? Validate { get; init; }
    public IReadOnlySet<string> SelfValidatedInputs { get; init; } = new HashSet<string>();

    /// <summary>A cost estimate from literal inputs (e.g. pixels × batch), summed against the engine's budget.</summary>
    public Func<LiteralInputs, double>? EstimateCost { get; init; }

    /// <summary>
    /// Peak memory of one call from the shapes known before anything runs (checked against the engine's
    /// <see cref="MemoryBudget"/>), and descriptions of the outputs for the hooks downstream.
    /// </summary>
    public Func<MemoryEstimateContext, MemoryEstimate>? EstimateMemory { get; init; }

    /// <summary>ComfyUI's IS_CHANGED: part of the cache key (e.g. a file's sha256). Evaluated at job start.</summary>
    public Func<LiteralInputs, string?>? Fingerprint { get; init; }

    public LazyStatusFunction? CheckLazyStatus { get; init; }

    public required NodeFunction Execute { get; init; }

    public string EffectiveDisplayName => DisplayName ?? ClassType;

    public InputSpec? FindInput(string name)
    {
        foreach (var input in Inputs)
            if (string.Equals(input.Name, name, StringComparison.Ordinal)) return input;
        return null;
    }
}
