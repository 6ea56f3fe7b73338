namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>A small fluent builder for <see cref="NodeDefinition"/>s.</summary>
public sealed class NodeBuilder(string classType)
{
    private readonly List<InputSpec> _inputs = [];
    private readonly List<OutputSpec> _outputs = [];
    private readonly HashSet<string> _selfValidated = [];
    private NodeDefinition _def = new() { ClassType = classType, Execute = static (_, _) => NodeOutput.Empty };

    public NodeBuilder DisplayName(string name) => Set(_def with { DisplayName = name });
    public NodeBuilder Category(string category) => Set(_def with { Category = category });
    public NodeBuilder Description(string text) => Set(_def with { Description = text });
    public NodeBuilder PythonModule(string module) => Set(_def with { PythonModule = module });

    public NodeBuilder Required(InputSpec input) => AddInput(input with { Section = InputSection.Required });
    public NodeBuilder Optional(InputSpec input) => AddInput(input with { Section = InputSection.Optional });

    /// <summary>A hidden input such as ("prompt", PROMPT), ("unique_id", UNIQUE_ID).</summary>
    public NodeBuilder Hidden(string name, string kind) =>
        AddInput(new InputSpec { Name = name, Type = kind, Section = InputSection.Hidden });

    public NodeBuilder Output(string type, string? name = null, bool isList = false, string? tooltip = null)
    {
        _outputs.Add(new OutputSpec(type, name ?? type, isList, tooltip));
        return this;
    }

    public NodeBuilder OutputNode(bool value = true) => Set(_def with { OutputNode = value });
    public NodeBuilder InputIsList(bool value = true) => Set(_def with { InputIsList = value });
    public NodeBuilder NotIdempotent(bool value = true) => Set(_def with { NotIdempotent = value });
    public NodeBuilder Deprecated(bool value = true) => Set(_def with { Deprecated = value });
    public NodeBuilder Experimental(bool value = true) => Set(_def with { Experimental = value });
    public NodeBuilder DynamicInputs(string prefix, string type) => Set(_def with { DynamicInputs = new(prefix, type) });

    /// <summary>Adds a validation hook; <paramref name="selfValidated"/> skip the built-in range/combo checks.</summary>
    public NodeBuilder Validate(Func<LiteralInputs, string?> hook, params string[] selfValidated)
    {
        _selfValidated.UnionWith(selfValidated);
        return Set(_def with { Validate = hook });
    }

    public NodeBuilder EstimateCost(Func<LiteralInputs, double> hook) => Set(_def with { EstimateCost = hook });
    public NodeBuilder EstimateMemory(Func<MemoryEstimateContext, MemoryEstimate> hook) => Set(_def with { EstimateMemory = hook });
    public NodeBuilder Fingerprint(Func<LiteralInputs, string?> hook) => Set(_def with { Fingerprint = hook });
    public NodeBuilder CheckLazyStatus(LazyStatusFunction hook) => Set(_def with { CheckLazyStatus = hook });
    public NodeBuilder Execute(NodeFunction function) => Set(_def with { Execute = function });

    public NodeDefinition Build()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in _inputs)
            if (!names.Add(input.Name))
                throw new InvalidOperationException($"{_def.ClassType}: input '{input.Name}' is declared twice.");
        return _def with { Inputs = _inputs.ToArray(), Outputs = _outputs.ToArray(), SelfValidatedInputs = _selfValidated.ToHashSet() };
    }

    private NodeBuilder AddInput(InputSpec input)
    {
        _inputs.Add(input);
        return this;
    }

    private NodeBuilder Set(NodeDefinition def)
    {
        _def = def;
        return this;
    }
}
