using System.Text.RegularExpressions;
using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.IpAdapter;

/// <summary>
/// IPAdapterUnifiedLoader's presets and the file-name patterns they look for in models/clip_vision and models/ipadapter
/// (cubiq utils.get_clipvision_file / get_ipadapter_file; only .safetensors files are listed here).
/// </summary>
internal static class IpAdapterPresets
{
    public static readonly IReadOnlyList<string> Names =
    [
        "LIGHT - SD1.5 only (low strength)", "STANDARD (medium strength)", "VIT-G (medium strength)", "PLUS (high strength)",
        "PLUS FACE (portraits)", "FULL FACE - SD1.5 only (portraits stronger)",
    ];

    public static string ClipVisionPattern(string preset) => preset.ToLowerInvariant().StartsWith("vit-g", StringComparison.Ordinal)
        ? @"(ViT.bigG.14.*39B.b160k|ipadapter.*sdxl|sdxl.*model)\.(bin|safetensors)"
        : @"(ViT.H.14.*s32B.b79K|ipadapter.*sd15|sd1.?5.*model)\.(bin|safetensors)";

    public static string IpAdapterPattern(string preset, bool sdxl, IReadOnlyList<string> available)
    {
        string p = preset.ToLowerInvariant();
        if (p.StartsWith("light", StringComparison.Ordinal))
        {
            if (sdxl) throw new InvalidOperationException("light model is not supported for SDXL");
            const string v11 = @"sd15.light.v11\.(safetensors|bin)$";
            return available.Any(f => Regex.IsMatch(f, v11, RegexOptions.IgnoreCase)) ? v11 : @"sd15.light\.(safetensors|bin)$";
        }
        if (p.StartsWith("standard", StringComparison.Ordinal)) return sdxl ? @"ip.adapter.sdxl.vit.h\.(safetensors|bin)$" : @"ip.adapter.sd15\.(safetensors|bin)$";
        if (p.StartsWith("vit-g", StringComparison.Ordinal)) return sdxl ? @"ip.adapter.sdxl\.(safetensors|bin)$" : @"sd15.vit.g\.(safetensors|bin)$";
        if (p.StartsWith("plus (", StringComparison.Ordinal)) return sdxl ? @"plus.sdxl.vit.h\.(safetensors|bin)$" : @"ip.adapter.plus.sd15\.(safetensors|bin)$";
        if (p.StartsWith("plus face", StringComparison.Ordinal)) return sdxl ? @"plus.face.sdxl.vit.h\.(safetensors|bin)$" : @"plus.face.sd15\.(safetensors|bin)$";
        if (p.StartsWith("full", StringComparison.Ordinal))
        {
            if (sdxl) throw new InvalidOperationException("full face model is not supported for SDXL");
            return @"full.face.sd15\.(safetensors|bin)$";
        }
        throw new ArgumentException($"invalid type '{preset}'");
    }

    /// <summary>The first file of <paramref name="kind"/> matching <paramref name="pattern"/>, or an error naming the folders.</summary>
    public static string Find(ModelFolders models, string kind, string pattern, string preset)
    {
        string? name = models.List(kind).FirstOrDefault(f => Regex.IsMatch(f, pattern, RegexOptions.IgnoreCase));
        return name ?? throw new FileNotFoundException(
            $"IPAdapterUnifiedLoader preset '{preset}': no file in {kind} matches /{pattern}/ (searched {models.SearchedText(kind)}); "
            + $"put the {(kind == "clip_vision" ? "CLIP vision encoder" : "IP-Adapter")} there as .safetensors");
    }
}
