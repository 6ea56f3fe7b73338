using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.WorkflowFormat;
using static CharacterGen.GraphRuntime.Validation.ValidationErrorTypes;

namespace CharacterGen.GraphRuntime.Validation;

/// <summary>An input of a checked node, with links still named by node id.</summary>
internal readonly record struct CheckedInput(string Name, BoundKind Kind, object? Literal, string? SourceId, int Slot, bool Lazy, string? HiddenKind);

/// <summary>One node's own validation result (ComfyUI's validate_inputs without the recursion).</summary>
internal sealed class CheckedNode(string id, NodeDefinition definition)
{
    public string Id { get; } = id;
    public NodeDefinition Definition { get; } = definition;
    private List<ValidationError>? _errors;
    public List<ValidationError> Errors => _errors ??= [];
    public bool HasErrors => _errors is { Count: > 0 };
    public List<CheckedInput> Inputs { get; } = [];
    public int DeclaredCount { get; set; }
    public Dictionary<string, object?> Literals { get; } = new(StringComparer.Ordinal);
    public LiteralInputs? LiteralInputs { get; set; }
    /// <summary>Ids of the nodes this one links from (valid links only).</summary>
    public List<string> Sources { get; } = [];
    /// <summary><see cref="Sources"/> resolved, once every reachable node has been checked.</summary>
    public CheckedNode[] SourceNodes { get; set; } = [];
    public bool Invalid { get; set; }
    /// <summary>Depth-first bookkeeping: 0 unvisited, 1 on the current path, 2 done.</summary>
    public int Mark { get; set; }
    /// <summary>Position in the compiled graph.</summary>
    public int Index { get; set; }
}

/// <summary>Checks the inputs of one node against its definition, collecting every error.</summary>
internal sealed class NodeInputChecker(ApiWorkflow workflow, IReadOnlyDictionary<string, NodeDefinition> definitions, IServiceProvider services)
{
    public CheckedNode Check(string id, NodeDefinition def)
    {
        var node = new CheckedNode(id, def);
        var given = workflow.Inputs(id);

        foreach (var spec in def.Inputs)
        {
            if (spec.Section == InputSection.Hidden)
            {
                node.Inputs.Add(new CheckedInput(spec.Name, BoundKind.Hidden, null, null, 0, false, spec.Type));
                continue;
            }
            if (!given.TryGetPropertyValue(spec.Name, out var raw))
            {
                if (spec.Section == InputSection.Required)
                    node.Errors.Add(Error(RequiredInputMissing, "Required input is missing", spec.Name, new JsonObject { ["input_name"] = spec.Name }));
                continue;
            }
            if (raw is JsonArray link)
                CheckLink(node, spec.Name, link, spec.Type, spec, spec.Lazy);
            else
                CheckLiteral(node, spec, raw);
        }
        node.DeclaredCount = node.Inputs.Count;

        foreach (var (name, raw) in given)
        {
            if (def.FindInput(name) is not null) continue;
            if (def.DynamicInputs is { } rule && rule.Matches(name) && raw is JsonArray link)
            {
                CheckLink(node, name, link, rule.Type, null, lazy: false);
                continue;
            }
            node.Errors.Add(Error(UnknownInput, "Input is not declared by the node", name,
                new JsonObject { ["input_name"] = name, ["received_value"] = raw?.DeepClone() }));
        }

        node.LiteralInputs = new LiteralInputs(node.Literals, services);
        if (def.Validate is { } hook) RunCustomValidation(node, hook);
        return node;
    }

    private void CheckLink(CheckedNode node, string name, JsonArray link, string inputType, InputSpec? spec, bool lazy)
    {
        if (link.Count != 2 || link[0] is not JsonValue idValue || !idValue.TryGetValue<string>(out var sourceId)
            || !JsonNumber.TryGetInt64(link[1], out var slot64) || slot64 is < 0 or > int.MaxValue)
        {
            node.Errors.Add(Error(BadLinkedInput, "Bad linked input, must be a length-2 list of [node_id, slot_index]", name,
                LinkInfo(name, spec, inputType, link)));
            return;
        }
        var slot = (int)slot64;
        if (!definitions.TryGetValue(sourceId, out var sourceDef))
        {
            node.Errors.Add(Error(BadLinkedInput, "Linked node does not exist", $"{name}, node '{sourceId}' does not exist",
                LinkInfo(name, spec, inputType, link, sourceId, slot)));
            return;
        }
        if (slot >= sourceDef.Outputs.Count)
        {
            node.Errors.Add(Error(BadLinkedInput, "Linked output slot does not exist",
                $"{name}, node '{sourceId}' ({sourceDef.ClassType}) has {sourceDef.Outputs.Count} outputs, slot {slot} requested",
                LinkInfo(name, spec, inputType, link, sourceId, slot)));
            return;
        }
        var received = sourceDef.Outputs[slot].Type;
        if (!IoTypes.AreCompatible(received, inputType))
        {
            node.Errors.Add(Error(ReturnTypeMismatch, "Return type mismatch between linked nodes",
                $"{name}, received_type({received}) mismatch input_type({inputType})",
                new JsonObject
                {
                    ["input_name"] = name, ["input_config"] = Config(spec, inputType),
                    ["received_type"] = received, ["linked_node"] = new JsonArray(sourceId, slot),
                }));
            return;
        }
        node.Inputs.Add(new CheckedInput(name, BoundKind.Link, null, sourceId, slot, lazy, null));
        node.Sources.Add(sourceId);
    }

    private static JsonObject LinkInfo(string name, InputSpec? spec, string inputType, JsonArray link, string? sourceId = null, int slot = 0)
    {
        var info = new JsonObject { ["input_name"] = name, ["input_config"] = Config(spec, inputType), ["received_value"] = link.DeepClone() };
        if (sourceId is not null) info["linked_node"] = new JsonArray(sourceId, slot);
        return info;
    }

    private void CheckLiteral(CheckedNode node, InputSpec spec, JsonNode? raw)
    {
        // ComfyUI wraps literal lists as {"__value__": [...]} because a bare list means a link.
        if (raw is JsonObject wrapper && wrapper.TryGetPropertyValue("__value__", out var inner)) raw = inner;

        var value = LiteralConversion.Convert(spec.Type, raw, out var problem);
        if (problem is not null)
        {
            var shown = PythonText.Str(LiteralConversion.ToClr(raw));
            node.Errors.Add(Error(InvalidInputType, $"Failed to convert an input value to a {spec.Type} value",
                $"{spec.Name}, {shown}, {problem}",
                new JsonObject
                {
                    ["input_name"] = spec.Name, ["input_config"] = Config(spec, spec.Type),
                    ["received_value"] = raw?.DeepClone(), ["exception_message"] = problem,
                }));
            return;
        }

        if (!node.Definition.SelfValidatedInputs.Contains(spec.Name) && !CheckRangeAndOptions(node, spec, value, raw))
            return;

        node.Literals[spec.Name] = value;
        node.Inputs.Add(new CheckedInput(spec.Name, BoundKind.Literal, value, null, 0, false, null));
    }

    private bool CheckRangeAndOptions(CheckedNode node, InputSpec spec, object? value, JsonNode? raw)
    {
        JsonObject Info(JsonNode? config) => new()
        {
            ["input_name"] = spec.Name, ["input_config"] = config, ["received_value"] = raw?.DeepClone(),
        };

        if (spec.Min is { } min && Compare(value, min) < 0)
        {
            node.Errors.Add(Error(ValueSmallerThanMin, $"Value {PythonText.Repr(value)} smaller than min of {SpecNumber(spec, min)}",
                spec.Name, Info(Config(spec, spec.Type))));
            return false;
        }
        if (spec.Max is { } max && Compare(value, max) > 0)
        {
            node.Errors.Add(Error(ValueBiggerThanMax, $"Value {PythonText.Repr(value)} bigger than max of {SpecNumber(spec, max)}",
                spec.Name, Info(Config(spec, spec.Type))));
            return false;
        }
        if (spec.IsCombo)
        {
            var options = spec.CurrentOptions();
            if (value is string s && options.Contains(s, StringComparer.Ordinal)) return true;
            // Never echo long lists back: they are usually scanned model paths.
            var tooLong = options.Count > 20;
            var listInfo = tooLong ? $"(list of length {options.Count})" : PythonText.Repr(options);
            node.Errors.Add(Error(ValueNotInList, "Value not in list", $"{spec.Name}: '{PythonText.Str(value)}' not in {listInfo}{Hint(spec)}",
                Info(tooLong ? null : Config(spec, spec.Type))));
            return false;
        }
        return true;
    }

    private static string Hint(InputSpec spec) => spec.NotInListHint is { } hint ? "; " + hint() : "";

    private static void RunCustomValidation(CheckedNode node, Func<LiteralInputs, string?> hook)
    {
        string? message;
        try
        {
            message = hook(node.LiteralInputs!);
        }
        catch (Exception ex)
        {
            message = $"validation raised {ex.GetType().Name}: {ex.Message}";
        }
        if (message is null) return;

        var named = node.Definition.SelfValidatedInputs.Where(node.Literals.ContainsKey).ToList();
        if (named.Count == 0)
        {
            node.Errors.Add(new ValidationError(CustomValidationFailed, "Custom validation failed for node", message));
            return;
        }
        foreach (var name in named)
            node.Errors.Add(Error(CustomValidationFailed, "Custom validation failed for node", $"{name} - {message}",
                new JsonObject { ["input_name"] = name }));
    }

    private static int Compare(object? value, decimal bound) => value switch
    {
        long l => ((decimal)l).CompareTo(bound),
        double d => d.CompareTo((double)bound),
        _ => 0,
    };

    private static string SpecNumber(InputSpec spec, decimal n) => spec.Type == IoTypes.Float
        ? PythonText.Float((double)n)
        : decimal.Truncate(n).ToString("0", CultureInfo.InvariantCulture);

    private static JsonNode Config(InputSpec? spec, string type) =>
        spec is null ? new JsonArray(type) : ObjectInfo.InputConfig(spec);

    private static ValidationError Error(string type, string message, string details, JsonObject extra) =>
        new(type, message, details, extra);
}
