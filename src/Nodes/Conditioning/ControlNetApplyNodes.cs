using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Conditioning;

/// <summary>
/// ControlNetApplyAdvanced ("Apply ControlNet") and the deprecated ControlNetApply (ComfyUI nodes.py): each entry of the
/// conditioning gets a control chain (net, hint image, strength, window) on top of the chain it had. The residuals are
/// computed while sampling (<see cref="ControlNetContributor"/>). Strength 0 returns the inputs untouched.
/// </summary>
internal static class ControlNetApplyNodes
{
    public static IEnumerable<NodeDefinition> Definitions() => [ControlNetApply, ControlNetApplyAdvanced];

    private static InputSpec Strength() => InputSpec.Float("strength", 1.0, 0.0, 10.0, 0.01);

    private static NodeDefinition ControlNetApply { get; } = new NodeBuilder("ControlNetApply")
        .DisplayName("Apply ControlNet (OLD)").Category("conditioning/controlnet").Deprecated()
        .Required(InputSpec.Link("conditioning", IoTypes.Conditioning))
        .Required(InputSpec.Link("control_net", IoTypes.ControlNet))
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(Strength())
        .Output(IoTypes.Conditioning)
        .ExecuteTensors((_, i) => NodeOutput.Of(ApplyOld(i.Value<ConditioningValue>("conditioning"), i.Value<ControlNetValue>("control_net"),
            i.Value<Tensor>("image"), i.Get<double>("strength"))))
        .Build();

    private static NodeDefinition ControlNetApplyAdvanced { get; } = new NodeBuilder("ControlNetApplyAdvanced")
        .DisplayName("Apply ControlNet").Category("conditioning/controlnet")
        .Required(InputSpec.Link("positive", IoTypes.Conditioning))
        .Required(InputSpec.Link("negative", IoTypes.Conditioning))
        .Required(InputSpec.Link("control_net", IoTypes.ControlNet))
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(Strength())
        .Required(InputSpec.Float("start_percent", 0.0, 0.0, 1.0, 0.001))
        .Required(InputSpec.Float("end_percent", 1.0, 0.0, 1.0, 0.001))
        .Optional(InputSpec.Link("vae", IoTypes.Vae))
        .Output(IoTypes.Conditioning, "positive").Output(IoTypes.Conditioning, "negative")
        .ExecuteTensors((_, i) =>
        {
            var (positive, negative) = Apply(i.Value<ConditioningValue>("positive"), i.Value<ConditioningValue>("negative"),
                i.Value<ControlNetValue>("control_net"), i.Value<Tensor>("image"), i.Get<double>("strength"),
                i.Get<double>("start_percent"), i.Get<double>("end_percent"));
            return NodeOutput.Of(positive, negative);
        })
        .Build();

    /// <summary>
    /// ComfyUI apply_controlnet: one new chain link per distinct previous chain, shared by the positive and negative
    /// entries that had it, so cond and uncond still batch together. The vae input only matters for nets with a latent
    /// hint (SD3, FLUX), which are not loaded, so it is not taken here.
    /// </summary>
    public static (ConditioningValue Positive, ConditioningValue Negative) Apply(ConditioningValue positive, ConditioningValue negative,
        ControlNetValue net, Tensor image, double strength, double startPercent, double endPercent)
    {
        if (strength == 0) return (positive.Alias(), negative.Alias());
        var made = new Dictionary<object, ControlChain>(ReferenceEqualityComparer.Instance);
        object none = new();
        try
        {
            ConditioningValue With(ConditioningValue conditioning) => new(conditioning.Entries.Select(e =>
            {
                object key = (object?)e.Control ?? none;
                if (!made.TryGetValue(key, out ControlChain? chain))
                    made[key] = chain = Link(net, image, strength, startPercent, endPercent, e.Control);
                return e.WithControl(chain.Share(), applyToUncond: false);
            }));
            ConditioningValue outPositive = With(positive);
            return (outPositive, With(negative));
        }
        finally
        {
            foreach (ControlChain chain in made.Values) chain.Dispose(); // the entries hold their own references
        }
    }

    /// <summary>The deprecated node: a link per entry over the whole schedule, copied onto the uncond when sampling.</summary>
    public static ConditioningValue ApplyOld(ConditioningValue conditioning, ControlNetValue net, Tensor image, double strength)
    {
        if (strength == 0) return conditioning.Alias();
        return new ConditioningValue(conditioning.Entries.Select(e =>
            e.WithControl(Link(net, image, strength, 0.0, 1.0, e.Control), applyToUncond: true)));
    }

    private static ControlChain Link(ControlNetValue net, Tensor image, double strength, double start, double end, ControlChain? previous)
    {
        if (image.Dim != 4) throw new ArgumentException($"image must be an IMAGE batch [B, H, W, C], got {image}");
        return new ControlChain(net.Net, net.ShareLease(), image.Permute(0, 3, 1, 2), strength, start, end, previous?.Share());
    }
}
