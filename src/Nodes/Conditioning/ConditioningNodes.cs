using CharacterGen.Diffusion.Conditioning;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Conditioning;

/// <summary>
/// The list operations on CONDITIONING: ConditioningCombine, ConditioningConcat, ConditioningZeroOut,
/// ConditioningSetArea and the Impact Pack's ImpactConcatConditionings. Every result holds its own handles.
/// </summary>
internal static class ConditioningNodes
{
    private const long MaxResolution = 16384;

    // Declared before the definitions: static initialisers run in text order.
    private static readonly DynamicInputRule DynamicConditioning = new("conditioning", IoTypes.Conditioning);

    public static IEnumerable<NodeDefinition> Definitions() =>
        [ConditioningCombine, ConditioningConcat, ConditioningZeroOut, ConditioningSetArea, ImpactConcatConditionings];

    // Both lists are sampled; the denoiser averages their predictions by area weight.
    private static NodeDefinition ConditioningCombine { get; } = new NodeBuilder("ConditioningCombine")
        .DisplayName("Conditioning (Combine)").Category("conditioning")
        .Required(InputSpec.Link("conditioning_1", IoTypes.Conditioning))
        .Required(InputSpec.Link("conditioning_2", IoTypes.Conditioning))
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(Combine(
            i.Value<ConditioningValue>("conditioning_1"), i.Value<ConditioningValue>("conditioning_2"))))
        .Build();

    private static NodeDefinition ConditioningConcat { get; } = new NodeBuilder("ConditioningConcat")
        .DisplayName("Conditioning (Concat)").Category("conditioning")
        .Required(InputSpec.Link("conditioning_to", IoTypes.Conditioning))
        .Required(InputSpec.Link("conditioning_from", IoTypes.Conditioning))
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(Concat(
            i.Value<ConditioningValue>("conditioning_to"), i.Value<ConditioningValue>("conditioning_from"))))
        .Build();

    private static NodeDefinition ConditioningZeroOut { get; } = new NodeBuilder("ConditioningZeroOut")
        .DisplayName("ConditioningZeroOut").Category("advanced/conditioning")
        .Required(InputSpec.Link("conditioning", IoTypes.Conditioning))
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(ZeroOut(i.Value<ConditioningValue>("conditioning"))))
        .Build();

    private static NodeDefinition ConditioningSetArea { get; } = new NodeBuilder("ConditioningSetArea")
        .DisplayName("Conditioning (Set Area)").Category("conditioning")
        .Required(InputSpec.Link("conditioning", IoTypes.Conditioning))
        .Required(InputSpec.Int("width", 64, 64, MaxResolution, 8))
        .Required(InputSpec.Int("height", 64, 64, MaxResolution, 8))
        .Required(InputSpec.Int("x", 0, 0, MaxResolution, 8))
        .Required(InputSpec.Int("y", 0, 0, MaxResolution, 8))
        .Required(InputSpec.Float("strength", 1.0, 0.0, 10.0, 0.01))
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(SetArea(i.Value<ConditioningValue>("conditioning"),
            i.Get<long>("width"), i.Get<long>("height"), i.Get<long>("x"), i.Get<long>("y"), i.Get<double>("strength"))))
        .Build();

    // ltdrdata/ComfyUI-Impact-Pack ConcatConditionings: conditioning2..N arrive as undeclared links in JSON order.
    private static NodeDefinition ImpactConcatConditionings { get; } = new NodeBuilder("ImpactConcatConditionings")
        .DisplayName("Concat Conditionings").Category("ImpactPack/Util").PythonModule("custom_nodes.ComfyUI-Impact-Pack")
        .Required(InputSpec.Link("conditioning1", IoTypes.Conditioning))
        .DynamicInputs(DynamicConditioning.Prefix, DynamicConditioning.Type)
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(ConcatAll(
            [i.Value<ConditioningValue>("conditioning1"), .. i.All.Where(d => d.Key != "conditioning1" && DynamicConditioning.Matches(d.Key))
                .Select(d => d.Value as ConditioningValue ?? throw new InvalidOperationException($"input '{d.Key}' is not a CONDITIONING"))])))
        .Build();

    /// <summary>ComfyUI: <c>conditioning_1 + conditioning_2</c>.</summary>
    public static ConditioningValue Combine(ConditioningValue first, ConditioningValue second) =>
        new(first.Entries.Concat(second.Entries).Select(e => e.Alias()));

    /// <summary>Each <c>to</c> entry's tokens followed by the first <c>from</c> entry's (dim 1); the <c>to</c> dict is kept.</summary>
    public static ConditioningValue Concat(ConditioningValue to, ConditioningValue from)
    {
        if (from.Count == 0) throw new InvalidOperationException("conditioning_from is empty");
        Tensor tokens = from.Entries[0].Cond; // ComfyUI warns and ignores the other entries
        return new(to.Entries.Select(e => e.WithCond(Torch.Cat([e.Cond, tokens], 1))));
    }

    /// <summary>
    /// ConditioningConcat applied left to right. With a single input the result is that input: Impact Pack raises there
    /// (an unbound local), which helps nobody.
    /// </summary>
    public static ConditioningValue ConcatAll(IReadOnlyList<ConditioningValue> conditionings)
    {
        ConditioningValue result = conditionings[0].Alias();
        foreach (ConditioningValue next in conditionings.Skip(1))
        {
            ConditioningValue joined = Concat(result, next);
            result.Dispose();
            result = joined;
        }
        return result;
    }

    /// <summary>Zeros shaped like each entry's tokens and pooled output.</summary>
    public static ConditioningValue ZeroOut(ConditioningValue conditioning) =>
        new(conditioning.Entries.Select(e => e with
        {
            Cond = Torch.ZerosLike(e.Cond),
            Pooled = e.Pooled is null ? null : Torch.ZerosLike(e.Pooled),
            Control = e.Control?.Share(),
        }));

    /// <summary>Sets area (in latent cells: pixels // 8) and strength on every entry (set_area_to_bounds = false).</summary>
    public static ConditioningValue SetArea(ConditioningValue conditioning, long width, long height, long x, long y, double strength)
    {
        var area = new ConditioningArea(height / 8, width / 8, y / 8, x / 8);
        return new(conditioning.Entries.Select(e => e.Alias() with { Area = area, Strength = strength }));
    }
}
