using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.RandomWeights;

/// <summary>
/// Random-weight CLIP vision towers and IP-Adapters in the real key layouts (HF "vision_model.…"; "image_proj.…",
/// "ip_adapter.{n}.to_k_ip/to_v_ip"), sized for a given UNet, for tests: the same initialisation as
/// <see cref="TestCheckpoints"/>.
/// </summary>
public static class TestIpAdapters
{
    /// <summary>A 28-pixel, 3-layer, 32-wide tower with a 16-wide projection (5 tokens per image).</summary>
    public static ClipVisionConfig TinyVision { get; } = new()
    {
        Family = "tiny", HiddenSize = 32, NumHiddenLayers = 3, NumAttentionHeads = 2, IntermediateSize = 64, PatchSize = 14,
        ImageSize = 28, ProjectionDim = 16,
    };

    public static void WriteClipVision(string path, ClipVisionConfig? config = null, ulong seed = 0)
    {
        using var model = new ClipVisionModel(config ?? TinyVision);
        Save(path, [("", model)], seed);
    }

    /// <summary>
    /// An adapter of <paramref name="kind"/> for a UNet of <paramref name="unet"/>'s configuration, reading a tower of
    /// <paramref name="vision"/>'s sizes (FaceID kinds read a 512-d identity; their files carry one LoRA key, as released
    /// FaceID files do, so they are detected as FaceID rather than portrait).
    /// </summary>
    public static void WriteIpAdapter(string path, UnetConfig unet, IpAdapterKind kind, ClipVisionConfig? vision = null, ulong seed = 0)
    {
        vision ??= TinyVision;
        using var network = new UnetModel(unet);
        var layout = new IpAdapterLayout(network);
        int ctx = unet.ContextDim;
        Module projection = kind switch
        {
            IpAdapterKind.Base => new ImageProjModel(vision.ProjectionDim, ctx, 4),
            IpAdapterKind.Plus => new Resampler(vision.HiddenSize, ctx, ctx, ctx * 4, ctx, 2, 4),
            IpAdapterKind.FullFace => new MlpProjModel(vision.HiddenSize, ctx),
            IpAdapterKind.FaceId or IpAdapterKind.FaceIdPortrait => new FaceIdProjModel(512, 64, ctx, kind == IpAdapterKind.FaceId ? 4 : 16),
            _ => new FaceIdPlusProjModel(512, 64, ctx, 4, vision.HiddenSize, ctx),
        };
        var parts = new List<(string, Module)> { ("image_proj.", projection) };
        foreach (IpAdapterSite s in layout.Sites.OrderBy(s => s.LayerIndex))
            parts.Add(($"ip_adapter.{2 * s.LayerIndex + 1}.", new IpLayer(ctx, s.Channels)));
        if (kind is IpAdapterKind.FaceId or IpAdapterKind.FaceIdPlus or IpAdapterKind.FaceIdPlusV2)
            parts.Add(("ip_adapter.0.to_q_lora.", new LoraDown(layout.Sites.First(s => s.LayerIndex == 0).Channels)));
        try { Save(path, parts, seed); }
        finally
        {
            foreach (var (_, m) in parts) m.Dispose();
        }
    }

    private static void Save(string path, IReadOnlyList<(string Prefix, Module Module)> parts, ulong seed)
    {
        using var scope = Torch.NewScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (int i = 0; i < parts.Count; i++)
        {
            TestCheckpoints.Initialize(parts[i].Module, seed + (ulong)i);
            foreach (var (name, p) in parts[i].Module.NamedParameters(parts[i].Prefix)) tensors.Add(new(name, p.Value));
        }
        SafetensorsTensors.Save(path, tensors, new Dictionary<string, string> { ["generator"] = $"random IP-Adapter weights, seed {seed}" });
    }

    // The down half of one FaceID LoRA processor weight (rank 4): only its name matters.
    private sealed class LoraDown : Module
    {
        public LoraDown(long channels) => Child("down", new Linear(channels, 4, bias: false));
    }
}
