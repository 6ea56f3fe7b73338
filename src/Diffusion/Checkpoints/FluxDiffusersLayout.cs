using System.Text.RegularExpressions;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Diffusers' FluxTransformer2DModel names (transformer_blocks.N, single_transformer_blocks.N, x_embedder, …) mapped
/// onto BFL's (next-wave.md §C2): separate q/k/v (and the single block's proj_mlp) become the slices of the fused
/// qkv / linear1 in that order, RMSNorm "weight" becomes "scale", and norm_out's (scale, shift) halves are swapped into
/// BFL's (shift, scale).
/// </summary>
internal static partial class FluxDiffusersLayout
{
    private const string FinalAdaLn = "final_layer.adaLN_modulation.1";

    /// <summary>A BFL tensor and the diffusers tensors it is made of, concatenated along dim 0 in order.</summary>
    public sealed record Source(string BflName, IReadOnlyList<string> Parts, bool SwapHalves);

    public static bool IsPresent(IReadOnlyDictionary<string, long[]> shapes) =>
        shapes.ContainsKey("x_embedder.weight") && shapes.Keys.Any(k => k.StartsWith("transformer_blocks.0.", StringComparison.Ordinal));

    /// <summary>Every BFL tensor the file provides, with its parts; diffusers keys with no BFL counterpart are skipped.</summary>
    public static IReadOnlyList<Source> Sources(IEnumerable<string> keys)
    {
        var parts = new Dictionary<string, SortedList<int, string>>(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            if (Map(key) is not var (bfl, part)) continue;
            if (!parts.TryGetValue(bfl, out var list)) parts[bfl] = list = new SortedList<int, string>();
            list[part] = key;
        }
        return parts.Select(p => new Source(p.Key, p.Value.Values.ToArray(), p.Key.StartsWith(FinalAdaLn, StringComparison.Ordinal)))
            .ToList();
    }

    /// <summary>The BFL names and shapes the file amounts to (for <see cref="Models.Flux.FluxConfig.Detect"/>).</summary>
    public static Dictionary<string, long[]> BflShapes(IReadOnlyList<Source> sources, IReadOnlyDictionary<string, long[]> shapes) =>
        sources.ToDictionary(s => s.BflName, s =>
        {
            long[] first = shapes[s.Parts[0]];
            return (long[])[s.Parts.Sum(p => shapes[p][0]), .. first[1..]];
        }, StringComparer.Ordinal);

    /// <summary>Reads one BFL tensor: its parts in <paramref name="dtype"/>, joined, halves swapped where needed.</summary>
    public static Tensor Read(SafetensorsFile file, Source source, DType dtype, Device device)
    {
        using var scope = Torch.NewScope();
        Tensor t = source.Parts.Count == 1 ? file.LoadTensor(source.Parts[0], dtype)
            : Torch.Cat(source.Parts.Select(p => file.LoadTensor(p, dtype)).ToList(), 0);
        if (source.SwapHalves)
        {
            Tensor[] halves = t.Chunk(2, 0);
            t = Torch.Cat([halves[1], halves[0]], 0);
        }
        return t.To(device).Contiguous().MoveToOuterScope();
    }

    /// <summary>(BFL name, slice index) for a diffusers key, or null.</summary>
    internal static (string Name, int Part)? Map(string key)
    {
        int dot = key.LastIndexOf('.');
        if (dot < 0) return null;
        string stem = key[..dot], suffix = key[(dot + 1)..];
        Match m = Block().Match(stem);
        if (m.Success)
        {
            bool single = m.Groups[1].Value.Length > 0;
            string at = (single ? "single_blocks." : "double_blocks.") + m.Groups[2].Value + ".";
            if ((single ? MapSingle(m.Groups[3].Value) : MapDouble(m.Groups[3].Value)) is not var (name, part)) return null;
            return (at + name + "." + Suffix(name, suffix), part);
        }
        string? top = stem switch
        {
            "x_embedder" => "img_in",
            "context_embedder" => "txt_in",
            "time_text_embed.timestep_embedder.linear_1" => "time_in.in_layer",
            "time_text_embed.timestep_embedder.linear_2" => "time_in.out_layer",
            "time_text_embed.guidance_embedder.linear_1" => "guidance_in.in_layer",
            "time_text_embed.guidance_embedder.linear_2" => "guidance_in.out_layer",
            "time_text_embed.text_embedder.linear_1" => "vector_in.in_layer",
            "time_text_embed.text_embedder.linear_2" => "vector_in.out_layer",
            "proj_out" => "final_layer.linear",
            "norm_out.linear" => FinalAdaLn,
            _ => null,
        };
        return top is null ? null : (top + "." + suffix, 0);
    }

    // QK-norm scales are "scale" in BFL, "weight" in diffusers
    private static string Suffix(string bflStem, string suffix) =>
        bflStem.EndsWith("_norm", StringComparison.Ordinal) && suffix == "weight" ? "scale" : suffix;

    private static (string, int)? MapDouble(string stem) => stem switch
    {
        "norm1.linear" => ("img_mod.lin", 0),
        "norm1_context.linear" => ("txt_mod.lin", 0),
        "attn.to_q" => ("img_attn.qkv", 0),
        "attn.to_k" => ("img_attn.qkv", 1),
        "attn.to_v" => ("img_attn.qkv", 2),
        "attn.add_q_proj" => ("txt_attn.qkv", 0),
        "attn.add_k_proj" => ("txt_attn.qkv", 1),
        "attn.add_v_proj" => ("txt_attn.qkv", 2),
        "attn.norm_q" => ("img_attn.norm.query_norm", 0),
        "attn.norm_k" => ("img_attn.norm.key_norm", 0),
        "attn.norm_added_q" => ("txt_attn.norm.query_norm", 0),
        "attn.norm_added_k" => ("txt_attn.norm.key_norm", 0),
        "attn.to_out.0" => ("img_attn.proj", 0),
        "attn.to_add_out" => ("txt_attn.proj", 0),
        "ff.net.0.proj" => ("img_mlp.0", 0),
        "ff.net.2" => ("img_mlp.2", 0),
        "ff_context.net.0.proj" => ("txt_mlp.0", 0),
        "ff_context.net.2" => ("txt_mlp.2", 0),
        _ => null,
    };

    private static (string, int)? MapSingle(string stem) => stem switch
    {
        "attn.to_q" => ("linear1", 0),
        "attn.to_k" => ("linear1", 1),
        "attn.to_v" => ("linear1", 2),
        "proj_mlp" => ("linear1", 3),
        "attn.norm_q" => ("norm.query_norm", 0),
        "attn.norm_k" => ("norm.key_norm", 0),
        "proj_out" => ("linear2", 0),
        "norm.linear" => ("modulation.lin", 0),
        _ => null,
    };

    [GeneratedRegex(@"^(single_)?transformer_blocks\.(\d+)\.(.+)$")]
    private static partial Regex Block();
}
