using System.Text.RegularExpressions;
using CharacterGen.Diffusion.Models.Clip;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// The OpenCLIP text-tower layout of SD2.x checkpoints ("cond_stage_model.model."), read into our HF-named CLIP
/// modules: resblocks.N.{ln_1, attn.in_proj (fused q|k|v), attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj} map to
/// encoder.layers.N.{layer_norm1, self_attn.{q,k,v}_proj, self_attn.out_proj, layer_norm2, mlp.fc1, mlp.fc2}
/// (the conversion ComfyUI's clip_text_transformers_convert performs). text_projection and logit_scale are unused.
/// </summary>
internal static partial class OpenClipLayout
{
    public const string Prefix = "cond_stage_model.model.";

    public static bool IsPresent(IReadOnlyDictionary<string, long[]> shapes) =>
        shapes.ContainsKey(Prefix + "token_embedding.weight");

    public static ClipTextConfig Detect(IReadOnlyDictionary<string, long[]> shapes)
    {
        long[] Shape(string key) => shapes.TryGetValue(Prefix + key, out long[]? s) ? s
            : throw new InvalidDataException($"OpenCLIP weight '{Prefix + key}' is missing");
        long[] tokens = Shape("token_embedding.weight");
        int layers = 0;
        while (shapes.ContainsKey($"{Prefix}transformer.resblocks.{layers}.mlp.c_fc.weight")) layers++;
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
        };
    }

    /// <summary>Our parameter name (relative to text_model) → where it is in an OpenCLIP checkpoint.</summary>
    public static WeightRef Map(string name)
    {
        switch (name)
        {
            case "embeddings.token_embedding.weight": return new(Prefix + "token_embedding.weight");
            case "embeddings.position_embedding.weight": return new(Prefix + "positional_embedding");
            case "final_layer_norm.weight": return new(Prefix + "ln_final.weight");
            case "final_layer_norm.bias": return new(Prefix + "ln_final.bias");
        }
        Match m = LayerKey().Match(name);
        if (!m.Success) throw new InvalidOperationException($"no OpenCLIP key for '{name}'");
        string block = $"{Prefix}transformer.resblocks.{m.Groups[1].Value}.";
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
