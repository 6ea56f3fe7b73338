using System.Text.RegularExpressions;
using CharacterGen.Diffusion.Models.Clip;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// The OpenCLIP text-tower layout of SD2.x checkpoints ("cond_stage_model.model.") and SDXL's clip_g
/// ("conditioner.embedders.1.model."), read into our HF-named CLIP modules: resblocks.N.{ln_1, attn.in_proj (fused q|k|v), attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj} map to
/// encoder.layers.N.{layer_norm1, self_attn.{q,k,v}_proj, self_attn.out_proj, layer_norm2, mlp.fc1, mlp.fc2}
/// (the conversion ComfyUI's clip_text_transformers_convert performs). text_projection [width, proj] (applied as x @ P)
/// becomes our Linear text_projection.weight = Pᵀ when the config has a projection (SDXL); a file that already spells it
/// "text_projection.weight" (Linear layout) is read as it is, as ComfyUI's clip_text_transformers_convert accepts both.
/// logit_scale is unused.
/// </summary>
internal static partial class OpenClipLayout
{
    public const string Prefix = "cond_stage_model.model.";

    public static bool IsPresent(IReadOnlyDictionary<string, long[]> shapes, string prefix = Prefix) =>
        shapes.ContainsKey(prefix + "token_embedding.weight");

    /// <summary>The text tower's configuration; <paramref name="withProjection"/> reads text_projection's width (SDXL clip_g).</summary>
    public static ClipTextConfig Detect(IReadOnlyDictionary<string, long[]> shapes, string prefix = Prefix, bool withProjection = false)
    {
        long[] Shape(string key) => shapes.TryGetValue(prefix + key, out long[]? s) ? s
            : throw new InvalidDataException($"OpenCLIP weight '{prefix + key}' is missing");
        long[] tokens = Shape("token_embedding.weight");
        int layers = 0;
        while (shapes.ContainsKey($"{prefix}transformer.resblocks.{layers}.mlp.c_fc.weight")) layers++;
        int hidden = (int)tokens[1];
        return new ClipTextConfig
        {
            VocabSize = (int)tokens[0],
            MaxPositionEmbeddings = (int)Shape("positional_embedding")[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = ClipTextConfig.HeadsFor(hidden),
            IntermediateSize = (int)Shape("transformer.resblocks.0.mlp.c_fc.weight")[0],
            HiddenAct = "gelu",
            ProjectionDim = !withProjection ? null
                : shapes.TryGetValue(prefix + LinearProjection, out long[]? linear) ? (int)linear[0]
                : (int)Shape("text_projection")[1],
        };
    }

    /// <summary>Our parameter name (relative to text_model) → where it is in an SD2 checkpoint.</summary>
    public static WeightRef Map(string name) => Map(name, Prefix);

    private const string LinearProjection = "text_projection.weight";

    /// <summary>
    /// A name map for the text tower under <paramref name="prefix"/>; with <paramref name="shapes"/>, a projection stored as
    /// "text_projection.weight" is read untransposed.
    /// </summary>
    public static Func<string, WeightRef> Mapper(string prefix, IReadOnlyDictionary<string, long[]>? shapes = null)
    {
        bool linear = shapes?.ContainsKey(prefix + LinearProjection) == true;
        return name => linear && name == LinearProjection ? new(prefix + LinearProjection) : Map(name, prefix);
    }

    /// <summary>Our parameter name (relative to text_model) → where it is in an OpenCLIP text tower under <paramref name="prefix"/>.</summary>
    public static WeightRef Map(string name, string prefix)
    {
        switch (name)
        {
            case "text_projection.weight": return new(prefix + "text_projection", Transposed: true);
            case "embeddings.token_embedding.weight": return new(prefix + "token_embedding.weight");
            case "embeddings.position_embedding.weight": return new(prefix + "positional_embedding");
            case "final_layer_norm.weight": return new(prefix + "ln_final.weight");
            case "final_layer_norm.bias": return new(prefix + "ln_final.bias");
        }
        Match m = LayerKey().Match(name);
        if (!m.Success) throw new InvalidOperationException($"no OpenCLIP key for '{name}'");
        string block = $"{prefix}transformer.resblocks.{m.Groups[1].Value}.";
        string rest = m.Groups[2].Value, kind = m.Groups[3].Value; // kind: weight | bias
        return rest switch
        {
            "layer_norm1" => new(block + "ln_1." + kind),
            "layer_norm2" => new(block + "ln_2." + kind),
            "mlp.fc1" => new(block + "mlp.c_fc." + kind),
            "mlp.fc2" => new(block + "mlp.c_proj." + kind),
            "self_attn.out_proj" => new(block + "attn.out_proj." + kind),
            "self_attn.q_proj" => new(block + "attn.in_proj_" + kind, 0, 3),
            "self_attn.k_proj" => new(block + "attn.in_proj_" + kind, 1, 3),
            "self_attn.v_proj" => new(block + "attn.in_proj_" + kind, 2, 3),
            _ => throw new InvalidOperationException($"no OpenCLIP key for '{name}'"),
        };
    }

    [GeneratedRegex(@"^encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex LayerKey();
}
