using System.Globalization;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Json;

namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// ComfyUI's object_info entry for a node (server.py node_info), key for key and in the same order.
/// Combos use the legacy <c>[[options...], {opts}]</c> form that the core nodes use.
/// </summary>
public static class ObjectInfo
{
    public static JsonObject Describe(NodeDefinition def)
    {
        var input = new JsonObject();
        var order = new JsonObject();
        foreach (var section in new[] { InputSection.Required, InputSection.Optional, InputSection.Hidden })
        {
            var specs = def.Inputs.Where(i => i.Section == section).ToList();
            if (specs.Count == 0 && section != InputSection.Required) continue;
            var block = new JsonObject();
            var names = new JsonArray();
            foreach (var spec in specs)
            {
                block[spec.Name] = section == InputSection.Hidden ? JsonValue.Create(spec.Type) : InputConfig(spec);
                names.Add(spec.Name);
            }
            var key = section.ToString().ToLowerInvariant();
            input[key] = block;
            order[key] = names;
        }

        var info = new JsonObject
        {
            ["input"] = input,
            ["input_order"] = order,
            ["output"] = new JsonArray(def.Outputs.Select(o => (JsonNode?)o.Type).ToArray()),
            ["output_is_list"] = new JsonArray(def.Outputs.Select(o => (JsonNode?)o.IsList).ToArray()),
            ["output_name"] = new JsonArray(def.Outputs.Select(o => (JsonNode?)o.Name).ToArray()),
            ["name"] = def.ClassType,
            ["display_name"] = def.EffectiveDisplayName,
            ["description"] = def.Description,
            ["python_module"] = def.PythonModule,
            ["category"] = def.Category,
            ["output_node"] = def.OutputNode,
        };
        if (def.Outputs.Any(o => o.Tooltip is not null))
            info["output_tooltips"] = new JsonArray(def.Outputs.Select(o => (JsonNode?)(o.Tooltip ?? "")).ToArray());
        if (def.Deprecated) info["deprecated"] = true;
        if (def.Experimental) info["experimental"] = true;
        return info;
    }

    /// <summary>The <c>[TYPE]</c> or <c>[TYPE, {opts}]</c> tuple (also used as errors' input_config).</summary>
    public static JsonArray InputConfig(InputSpec spec, bool includeOptions = true)
    {
        JsonNode type = spec.IsCombo && includeOptions
            ? new JsonArray(spec.CurrentOptions().Select(o => (JsonNode?)o).ToArray())
            : JsonValue.Create(spec.Type);
        var opts = new JsonObject();
        var isFloat = spec.Type == IoTypes.Float;
        if (spec.Default is not null) opts["default"] = Literal(spec.Default, isFloat);
        if (spec.Min is { } min) opts["min"] = Number(min, isFloat);
        if (spec.Max is { } max) opts["max"] = Number(max, isFloat);
        if (spec.Step is { } step) opts["step"] = Number(step, isFloat);
        if (spec.Round is { } round) opts["round"] = Number(round, isFloat);
        if (spec.Multiline) opts["multiline"] = true;
        if (spec.Lazy) opts["lazy"] = true;
        if (spec.ForceInput) opts["forceInput"] = true;
        if (spec.ImageUpload) opts["image_upload"] = true;
        if (spec.ControlAfterGenerate) opts["control_after_generate"] = true;
        if (spec.Tooltip is not null) opts["tooltip"] = spec.Tooltip;
        return opts.Count == 0 ? new JsonArray(type) : new JsonArray(type, opts);
    }

    private static JsonNode Number(decimal value, bool asFloat) => asFloat
        ? JsonNode.Parse(PythonText.Float((double)value))!
        : JsonNode.Parse(decimal.Truncate(value).ToString("0", CultureInfo.InvariantCulture))!;

    private static JsonNode? Literal(object value, bool asFloat) => value switch
    {
        double d => JsonNode.Parse(PythonText.Float(d)),
        float f => JsonNode.Parse(PythonText.Float(f)),
        long l when asFloat => JsonNode.Parse(PythonText.Float(l)),
        int i when asFloat => JsonNode.Parse(PythonText.Float(i)),
        decimal m => Number(m, asFloat),
        _ => System.Text.Json.JsonSerializer.SerializeToNode(value),
    };
}
