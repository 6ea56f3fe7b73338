using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Loaders;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.IpAdapter;

/// <summary>
/// ComfyUI_IPAdapter_plus's loaders and apply nodes (IPAdapterModelLoader, IPAdapterUnifiedLoader, IPAdapter,
/// IPAdapterAdvanced) with its names, inputs, defaults and ranges. Each apply node returns a new MODEL carrying one more
/// adapter; the sampler patches them into every cross-attention (see docs/ip-adapter.md).
/// </summary>
internal static class IpAdapterNodes
{
    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) =>
        [ModelLoader(folders), UnifiedLoader(folders), Simple(), Advanced(), IpAdapterFaceIdNode.Definition()];

    private static NodeDefinition ModelLoader(NodeFolders folders) => new NodeBuilder("IPAdapterModelLoader")
        .DisplayName("IPAdapter Model Loader").Category("ipadapter/loaders")
        .Required(ModelCombo.Of("ipadapter_file", "ipadapter", folders.Models))
        .Output(IoTypes.IpAdapter)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(new IpAdapterValue(
            ctx.GetRequiredService<ModelCache>().IpAdapter(folders.Models.Resolve("ipadapter", i.Get<string>("ipadapter_file"))))))
        .Build();

    private static NodeDefinition UnifiedLoader(NodeFolders folders) => new NodeBuilder("IPAdapterUnifiedLoader")
        .DisplayName("IPAdapter Unified Loader").Category("ipadapter")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Combo("preset", IpAdapterPresets.Names))
        .Optional(InputSpec.Link("ipadapter", IoTypes.IpAdapter))
        .Output(IoTypes.Model, "model").Output(IoTypes.IpAdapter, "ipadapter")
        .ExecuteTensors((ctx, i) =>
        {
            ModelValue model = i.Value<ModelValue>("model");
            string preset = i.Get<string>("preset");
            string clipName = IpAdapterPresets.Find(folders.Models, "clip_vision", IpAdapterPresets.ClipVisionPattern(preset), preset);
            bool sdxl = new IpAdapterLayout(model.Unet).IsSdxl;
            string ipName = IpAdapterPresets.Find(folders.Models, "ipadapter",
                IpAdapterPresets.IpAdapterPattern(preset, sdxl, folders.Models.List("ipadapter")), preset);
            var cache = ctx.GetRequiredService<ModelCache>();
            ClipVisionValue clip = ClipVisionNodes.Load(ctx, folders, clipName);
            try
            {
                var ipa = new IpAdapterValue(cache.IpAdapter(folders.Models.Resolve("ipadapter", ipName)), clip);
                return NodeOutput.Of(model.Share(), ipa);
            }
            catch
            {
                clip.Dispose();
                throw;
            }
        })
        .Build();

    private static InputSpec Window(string name, double value) => InputSpec.Float(name, value, 0.0, 1.0, 0.001);

    private static NodeDefinition Simple() => new NodeBuilder("IPAdapter")
        .DisplayName("IPAdapter").Category("ipadapter")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Link("ipadapter", IoTypes.IpAdapter))
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(InputSpec.Float("weight", 1.0, -1, 3, 0.05))
        .Required(Window("start_at", 0.0)).Required(Window("end_at", 1.0))
        .Required(InputSpec.Combo("weight_type", ["standard", "prompt is more important", "style transfer"]))
        .Optional(InputSpec.Link("attn_mask", IoTypes.Mask))
        .Output(IoTypes.Model)
        .ExecuteTensors((_, i) =>
        {
            IpAdapterValue ipa = i.Value<IpAdapterValue>("ipadapter");
            ClipVisionValue clip = ipa.ClipVision ?? throw new InvalidOperationException(
                "CLIPVision model not present in the pipeline. Please load the models with the IPAdapterUnifiedLoader node.");
            string type = i.Get<string>("weight_type") switch
            {
                var t when t.StartsWith("style", StringComparison.Ordinal) => "style transfer",
                "prompt is more important" => "ease out",
                _ => "linear",
            };
            return NodeOutput.Of(Apply(i.Value<ModelValue>("model"), ipa, clip.Model, i.Value<Tensor>("image"), null,
                i.Get<double>("weight"), type, "concat", i.Get<double>("start_at"), i.Get<double>("end_at"), "V only",
                i.Contains("attn_mask") ? i["attn_mask"] as Tensor : null));
        })
        .Build();

    private static NodeDefinition Advanced() => new NodeBuilder("IPAdapterAdvanced")
        .DisplayName("IPAdapter Advanced").Category("ipadapter")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Link("ipadapter", IoTypes.IpAdapter))
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(InputSpec.Float("weight", 1.0, -1, 5, 0.05))
        .Required(InputSpec.Combo("weight_type", IpAdapterWeighting.Types))
        .Required(InputSpec.Combo("combine_embeds", IpAdapterEncoding.CombineMethods))
        .Required(Window("start_at", 0.0)).Required(Window("end_at", 1.0))
        .Required(InputSpec.Combo("embeds_scaling", EmbedsScalingNames.Names))
        .Optional(InputSpec.Link("image_negative", IoTypes.Image))
        .Optional(InputSpec.Link("attn_mask", IoTypes.Mask))
        .Optional(InputSpec.Link("clip_vision", IoTypes.ClipVision))
        .Output(IoTypes.Model)
        .ExecuteTensors((_, i) =>
        {
            IpAdapterValue ipa = i.Value<IpAdapterValue>("ipadapter");
            ClipVisionValue clip = (i.Contains("clip_vision") ? i["clip_vision"] as ClipVisionValue : null) ?? ipa.ClipVision
                ?? throw new InvalidOperationException("Missing CLIPVision model.");
            return NodeOutput.Of(Apply(i.Value<ModelValue>("model"), ipa, clip.Model, i.Value<Tensor>("image"),
                i.Contains("image_negative") ? i["image_negative"] as Tensor : null, i.Get<double>("weight"),
                i.Get<string>("weight_type"), i.Get<string>("combine_embeds"), i.Get<double>("start_at"), i.Get<double>("end_at"),
                i.Get<string>("embeds_scaling"), i.Contains("attn_mask") ? i["attn_mask"] as Tensor : null));
        })
        .Build();

    /// <summary>
    /// cubiq ipadapter_execute for image adapters: checks the adapter fits the model, encodes the images, projects them
    /// and returns a new MODEL with the adapter appended (the input MODEL is unchanged).
    /// </summary>
    internal static ModelValue Apply(ModelValue model, IpAdapterValue ipa, ClipVisionModel clip, Tensor image, Tensor? negative,
        double weight, string weightType, string combine, double startAt, double endAt, string scaling, Tensor? mask)
    {
        IpAdapterModel adapter = ipa.Model;
        var layout = new IpAdapterLayout(model.Unet);
        layout.EnsureFits(adapter, ipa.Name);
        if (adapter.Info.IsFaceId)
            throw new InvalidOperationException($"'{ipa.Name}' is a {adapter.Info}: use IPAdapterFaceID with an InsightFace model");
        var weighting = new IpAdapterWeighting(weightType, weight, layout.IsSdxl);
        EmbedsScaling embedsScaling = EmbedsScalingNames.Parse(scaling);
        var (cond, uncond) = IpAdapterEncoding.Tokens(adapter, clip, image, negative, combine);
        Tensor? attnMask = mask is null ? null : (mask.Dim == 2 ? mask.Unsqueeze(0) : mask).To(DType.Float32);
        return model.WithIpAdapter(Applied(model, ipa, cond, uncond, weighting, startAt, endAt, embedsScaling, attnMask));
    }

    internal static IpAdapterApplication Applied(ModelValue model, IpAdapterValue ipa, Tensor cond, Tensor uncond,
        IpAdapterWeighting weighting, double startAt, double endAt, EmbedsScaling scaling, Tensor? mask)
    {
        // The application owns its tensors beyond this node's scope, and a hold on the adapter's weights.
        Tensor c = cond.Alias().DetachFromScope(), u = uncond.Alias().DetachFromScope();
        Tensor? m = mask?.Alias().DetachFromScope();
        return new IpAdapterApplication(ipa.Model, c, u, weighting, model.ModelSampling.PercentToSigma(startAt),
            model.ModelSampling.PercentToSigma(endAt), scaling, m, ipa.Hold(), IpAdapterValue.ShareHold);
    }
}
