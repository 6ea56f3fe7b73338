using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// diffusers UNet2DConditionModel parameter names → our LDM names for a UNet configuration (the mapping of ComfyUI
/// comfy.utils.unet_to_diffusers, derived here from the block layout). Names the model lacks may appear; callers keep
/// only those that exist.
/// </summary>
public static class UnetDiffusersNames
{
    private static readonly (string Ldm, string Diffusers)[] ResBlock =
    [
        ("in_layers.0", "norm1"), ("in_layers.2", "conv1"), ("emb_layers.1", "time_emb_proj"),
        ("out_layers.0", "norm2"), ("out_layers.3", "conv2"), ("skip_connection", "conv_shortcut"),
    ];

    private static readonly string[] TransformerParts = ["norm", "proj_in", "proj_out"];

    private static readonly string[] BlockParts =
    [
        "norm1", "norm2", "norm3", "attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0",
        "attn2.to_q", "attn2.to_k", "attn2.to_v", "attn2.to_out.0", "ff.net.0.proj", "ff.net.2",
    ];

    private static readonly (string Ldm, string Diffusers)[] Basic =
    [
        ("input_blocks.0.0", "conv_in"), ("out.0", "conv_norm_out"), ("out.2", "conv_out"),
        ("time_embed.0", "time_embedding.linear_1"), ("time_embed.2", "time_embedding.linear_2"),
        // SDXL's ADM (size/pooled) embedding: diffusers calls it add_embedding, older exports class_embedding.
        ("label_emb.0.0", "add_embedding.linear_1"), ("label_emb.0.2", "add_embedding.linear_2"),
        ("label_emb.0.0", "class_embedding.linear_1"), ("label_emb.0.2", "class_embedding.linear_2"),
    ];

    /// <summary>Module-level map (no ".weight"/".bias"): diffusers module name → LDM module name.</summary>
    public static IReadOnlyDictionary<string, string> Modules(UnetConfig config)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        void ResNet(string diffusers, string ldm)
        {
            foreach (var (l, d) in ResBlock) map[$"{diffusers}.{d}"] = $"{ldm}.{l}";
        }
        void Attention(string diffusers, string ldm, int depth)
        {
            foreach (string p in TransformerParts) map[$"{diffusers}.{p}"] = $"{ldm}.{p}";
            for (int t = 0; t < depth; t++)
                foreach (string p in BlockParts) map[$"{diffusers}.transformer_blocks.{t}.{p}"] = $"{ldm}.transformer_blocks.{t}.{p}";
        }

        int levels = config.Levels, res = config.NumResBlocks;
        for (int x = 0; x < levels; x++)
        {
            int n = 1 + (res + 1) * x;
            for (int i = 0; i < res; i++, n++)
            {
                ResNet($"down_blocks.{x}.resnets.{i}", $"input_blocks.{n}.0");
                if (config.TransformerDepth[x] > 0)
                    Attention($"down_blocks.{x}.attentions.{i}", $"input_blocks.{n}.1", config.TransformerDepth[x]);
            }
            map[$"down_blocks.{x}.downsamplers.0.conv"] = $"input_blocks.{n}.0.op";
        }

        if (config.TransformerDepthMiddle > 0) Attention("mid_block.attentions.0", "middle_block.1", config.TransformerDepthMiddle);
        ResNet("mid_block.resnets.0", "middle_block.0");
        ResNet("mid_block.resnets.1", config.TransformerDepthMiddle > 0 ? "middle_block.2" : "middle_block.1");

        for (int x = 0; x < levels; x++)
        {
            int level = levels - 1 - x, depth = config.TransformerDepth[level];
            int n = (res + 1) * x;
            for (int i = 0; i <= res; i++, n++)
            {
                ResNet($"up_blocks.{x}.resnets.{i}", $"output_blocks.{n}.0");
                if (depth > 0) Attention($"up_blocks.{x}.attentions.{i}", $"output_blocks.{n}.1", depth);
                if (i == res) map[$"up_blocks.{x}.upsamplers.0.conv"] = $"output_blocks.{n}.{(depth > 0 ? 2 : 1)}.conv";
            }
        }

        foreach (var (l, d) in Basic) map[d] = l;
        return map;
    }
}
