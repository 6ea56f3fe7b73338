using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.IpAdapter;

/// <summary>
/// cubiq's IPAdapterFaceID: the first face of each image (INSIGHTFACE: ArcFace identity + aligned crop at 224 px for
/// SD1.5, 256 for SDXL) drives a FaceID adapter; plus variants also read the aligned face's CLIP penultimate states, and
/// plus v2 adds them back scaled by weight_faceidv2. Returns the MODEL and the aligned faces.
/// </summary>
internal static class IpAdapterFaceIdNode
{
    public static NodeDefinition Definition() => new NodeBuilder("IPAdapterFaceID")
        .DisplayName("IPAdapter FaceID").Category("ipadapter/faceid")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(InputSpec.Link("ipadapter", IoTypes.IpAdapter))
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(InputSpec.Float("weight", 1.0, -1, 3, 0.05))
        .Required(InputSpec.Float("weight_faceidv2", 1.0, -1, 5.0, 0.05))
        .Required(InputSpec.Combo("weight_type", IpAdapterWeighting.Types))
        .Required(InputSpec.Combo("combine_embeds", IpAdapterEncoding.CombineMethods))
        .Required(InputSpec.Float("start_at", 0.0, 0.0, 1.0, 0.001)).Required(InputSpec.Float("end_at", 1.0, 0.0, 1.0, 0.001))
        .Required(InputSpec.Combo("embeds_scaling", EmbedsScalingNames.Names))
        .Optional(InputSpec.Link("image_negative", IoTypes.Image))
        .Optional(InputSpec.Link("attn_mask", IoTypes.Mask))
        .Optional(InputSpec.Link("clip_vision", IoTypes.ClipVision))
        .Optional(InputSpec.Link("insightface", IoTypes.InsightFace))
        .Output(IoTypes.Model, "MODEL").Output(IoTypes.Image, "face_image")
        .ExecuteTensors((_, i) =>
        {
            Tensor? Optional(string name) => i.Contains(name) ? i[name] as Tensor : null;
            IpAdapterValue ipa = i.Value<IpAdapterValue>("ipadapter");
            ClipVisionValue? clip = (i.Contains("clip_vision") ? i["clip_vision"] as ClipVisionValue : null) ?? ipa.ClipVision;
            IFaceAnalyzer face = (i.Contains("insightface") ? i["insightface"] as IFaceAnalyzer : null)
                ?? throw new InvalidOperationException("insightface model is required for FaceID models (connect IPAdapterInsightFaceLoader)");
            var (model, faces) = Apply(i.Value<ModelValue>("model"), ipa, clip?.Model, face, i.Value<Tensor>("image"),
                Optional("image_negative"), i.Get<double>("weight"), i.Get<double>("weight_faceidv2"), i.Get<string>("weight_type"),
                i.Get<string>("combine_embeds"), i.Get<double>("start_at"), i.Get<double>("end_at"), i.Get<string>("embeds_scaling"),
                Optional("attn_mask"));
            return NodeOutput.Of(model, faces);
        })
        .Build();

    internal static (ModelValue Model, Tensor Faces) Apply(ModelValue model, IpAdapterValue ipa, ClipVisionModel? clip,
        IFaceAnalyzer analyzer, Tensor image, Tensor? negative, double weight, double weightV2, string weightType, string combine,
        double startAt, double endAt, string scaling, Tensor? mask)
    {
        IpAdapterModel adapter = ipa.Model;
        var layout = new IpAdapterLayout(model.Unet);
        layout.EnsureFits(adapter, ipa.Name);
        if (!adapter.Info.IsFaceId) throw new InvalidOperationException($"'{ipa.Name}' is a {adapter.Info}, not a FaceID adapter: use IPAdapterAdvanced");
        int size = layout.IsSdxl ? 256 : 224;
        var identities = new List<Tensor>();
        var crops = new List<Tensor>();
        for (long n = 0; n < image.Size(0); n++)
        {
            DetectedFace found = analyzer.FirstFace(image.Select(0, n), size) ?? throw new InvalidOperationException("InsightFace: No face detected.");
            crops.Add(found.AlignedFace);
            float[] id = adapter.Info.Unnormalised ? found.Embedding : found.NormedEmbedding;
            identities.Add(Torch.FromArray(id).Reshape(1, -1));
        }
        Tensor faceEmbeds = Torch.Cat(identities), faces = Torch.Cat(crops);
        Tensor cond, uncond;
        if (adapter.Projection.Input == ImageInput.FaceEmbeddingAndPenultimate)
        {
            if (clip is null) throw new InvalidOperationException("Missing CLIPVision model.");
            Tensor states = IpAdapterEncoding.Embeds(adapter, clip, faces);
            Tensor negativeStates = IpAdapterEncoding.Embeds(adapter, clip, negative ?? Torch.Zeros([1, clip.Config.ImageSize, clip.Config.ImageSize, 3]));
            double? shortcut = adapter.Info.Kind == IpAdapterKind.FaceIdPlusV2 ? weightV2 : null;
            (cond, uncond) = IpAdapterEncoding.Project(adapter, states, negativeStates, combine, faceEmbeds, null, shortcut);
        }
        else (cond, uncond) = IpAdapterEncoding.Project(adapter, faceEmbeds, Torch.ZerosLike(faceEmbeds), combine);
        var weighting = new IpAdapterWeighting(weightType, weight, layout.IsSdxl);
        Tensor? attnMask = mask is null ? null : (mask.Dim == 2 ? mask.Unsqueeze(0) : mask).To(DType.Float32);
        IpAdapterApplication applied = IpAdapterNodes.Applied(model, ipa, cond, uncond, weighting, startAt, endAt,
            EmbedsScalingNames.Parse(scaling), attnMask);
        return (model.WithIpAdapter(applied), faces);
    }
}
