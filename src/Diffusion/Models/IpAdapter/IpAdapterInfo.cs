using CharacterGen.Diffusion.Checkpoints;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>The IP-Adapter variants ComfyUI_IPAdapter_plus tells apart.</summary>
public enum IpAdapterKind
{
    /// <summary>ImageProjModel over image_embeds (ip-adapter_sd15, _light, vit-G, SDXL).</summary>
    Base,

    /// <summary>Resampler over penultimate states (plus, plus-face).</summary>
    Plus,

    /// <summary>MLP over all penultimate tokens (full-face).</summary>
    FullFace,

    FaceId,
    FaceIdPortrait,
    FaceIdPlus,
    FaceIdPlusV2,
}

/// <summary>
/// What an IP-Adapter file is, from its keys (cubiq ipadapter_execute's flags) and, as there, its file name ("plusv2",
/// "unnorm"): variant, context width (768 SD1.5, 2048 SDXL) and layer count (16 SD1.5, 70 SDXL).
/// </summary>
public sealed record IpAdapterInfo(IpAdapterKind Kind, int ContextDim, int Layers, bool Unnormalised)
{
    public bool IsFaceId => Kind is IpAdapterKind.FaceId or IpAdapterKind.FaceIdPortrait or IpAdapterKind.FaceIdPlus or IpAdapterKind.FaceIdPlusV2;

    /// <summary>"SD1.5", "SDXL", or the context width of another (test) family.</summary>
    public string Family => FamilyOf(ContextDim);

    public static string FamilyOf(int contextDim) => contextDim switch
    {
        768 => "SD1.5",
        1024 => "SD2.x",
        2048 => "SDXL",
        _ => $"context-{contextDim}",
    };

    public override string ToString() => $"{Family} {Kind} IP-Adapter ({Layers} layers, context {ContextDim})";

    public static IpAdapterInfo Detect(IReadOnlyDictionary<string, long[]> shapes, string fileName, string ipPrefix = "ip_adapter.")
    {
        bool Proj(string key) => shapes.ContainsKey("image_proj." + key);
        bool hasProj = shapes.Keys.Any(k => k.StartsWith("image_proj.", StringComparison.Ordinal));
        if (!hasProj || !shapes.TryGetValue(ipPrefix + "1.to_k_ip.weight", out long[]? k1))
            throw new CheckpointLoadException(
                $"'{fileName}' is not an IP-Adapter (no 'image_proj.' and '{ipPrefix}1.to_k_ip' keys); it looks like a "
                + ModelFamilyDetector.Detect(shapes.Keys).Describe());
        string lower = fileName.ToLowerInvariant();
        bool unnorm = lower.Contains("unnorm", StringComparison.Ordinal);
        bool full = Proj("proj.3.weight");
        bool lora = shapes.ContainsKey(ipPrefix + "0.to_q_lora.down.weight");
        bool portrait = Proj("proj.2.weight") && !full && !lora;
        bool faceId = portrait || lora || unnorm;
        bool plus = (full || Proj("latents") || Proj("perceiver_resampler.proj_in.weight")) && !unnorm;
        IpAdapterKind kind = (faceId, plus) switch
        {
            (true, true) => lower.Contains("plusv2", StringComparison.Ordinal) ? IpAdapterKind.FaceIdPlusV2 : IpAdapterKind.FaceIdPlus,
            (true, false) => portrait || unnorm ? IpAdapterKind.FaceIdPortrait : IpAdapterKind.FaceId,
            (false, true) => full ? IpAdapterKind.FullFace : IpAdapterKind.Plus,
            _ => IpAdapterKind.Base,
        };
        int layers = 0;
        while (shapes.ContainsKey($"{ipPrefix}{2 * layers + 1}.to_k_ip.weight")) layers++;
        return new IpAdapterInfo(kind, (int)k1[1], layers, unnorm);
    }
}
