using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>
/// The diffusers ControlNetModel layout (controlnet_cond_embedding, down_blocks, mid_block, controlnet_down_blocks,
/// controlnet_mid_block) read as our LDM names: the encoder through the UNet's diffusers map
/// (<see cref="UnetDiffusersNames"/>), plus the ControlNet parts as ComfyUI's load_controlnet_state_dict renames them.
/// The configuration comes from the names and shapes, as ComfyUI's unet_config_from_diffusers_unet reads it.
/// </summary>
public static class ControlNetDiffusersNames
{
    public const string MarkerKey = "controlnet_cond_embedding.conv_in.weight";

    /// <summary>Module-level map: diffusers module name → LDM module name (no ".weight"/".bias").</summary>
    public static IReadOnlyDictionary<string, string> Modules(UnetConfig config, int residuals)
    {
        var map = new Dictionary<string, string>(UnetDiffusersNames.Modules(config), StringComparer.Ordinal);
        for (int i = 0; i < residuals; i++) map[$"controlnet_down_blocks.{i}"] = $"zero_convs.{i}.0";
        map["controlnet_mid_block"] = "middle_block_out.0";
        map["controlnet_cond_embedding.conv_in"] = "input_hint_block.0";
        for (int k = 0; k < 6; k++) map[$"controlnet_cond_embedding.blocks.{k}"] = $"input_hint_block.{2 * (k + 1)}";
        map["controlnet_cond_embedding.conv_out"] = "input_hint_block.14";
        return map;
    }

    /// <summary>
    /// LDM parameter name → the key a diffusers file stores it under. SDXL's ADM MLP is add_embedding (older exports:
    /// class_embedding); <paramref name="hasKey"/> picks the one present.
    /// </summary>
    public static Func<string, string> ToDiffusers(UnetConfig config, int residuals, Func<string, bool> hasKey)
    {
        var inverse = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (diffusers, ldm) in Modules(config, residuals))
            if (!inverse.TryGetValue(ldm, out string? known) || (!hasKey(known + ".weight") && hasKey(diffusers + ".weight")))
                inverse[ldm] = diffusers;
        return name =>
        {
            int dot = name.LastIndexOf('.');
            return dot > 0 && inverse.TryGetValue(name[..dot], out string? module) ? module + name[dot..] : name;
        };
    }

    /// <summary>The encoder configuration of a diffusers ControlNet, from its names and shapes.</summary>
    public static UnetConfig Detect(IReadOnlyDictionary<string, long[]> shapes)
    {
        long[] Shape(string key) => shapes.TryGetValue(key, out long[]? s) ? s
            : throw new InvalidDataException($"diffusers ControlNet weight '{key}' is missing");
        bool Any(string prefix) => shapes.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        int Count(string format)
        {
            int n = 0;
            while (Any(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, n))) n++;
            return n;
        }

        long[] convIn = Shape("conv_in.weight");
        int mc = (int)convIn[0];
        int levels = Count("down_blocks.{0}.");
        int res = Count("down_blocks.0.resnets.{0}.");
        var mults = new int[levels];
        var depths = new int[levels];
        int? context = null;
        bool? linear = null;
        void Attention(string prefix)
        {
            context ??= (int)Shape(prefix + "transformer_blocks.0.attn2.to_k.weight")[1];
            linear ??= Shape(prefix + "proj_in.weight").Length == 2;
        }
        for (int x = 0; x < levels; x++)
        {
            mults[x] = (int)(Shape($"down_blocks.{x}.resnets.0.conv2.weight")[0] / mc);
            depths[x] = Count($"down_blocks.{x}.attentions.0.transformer_blocks.{{0}}.");
            if (depths[x] > 0) Attention($"down_blocks.{x}.attentions.0.");
        }
        int middle = Count("mid_block.attentions.0.transformer_blocks.{0}.");
        if (middle > 0) Attention("mid_block.attentions.0.");
        if (context is null || linear is null)
            throw new InvalidDataException("the diffusers ControlNet has no cross-attention blocks (an SDXL \"small\" ControlNet), which is not supported");
        string? adm = new[] { "add_embedding.linear_1.weight", "class_embedding.linear_1.weight" }.FirstOrDefault(shapes.ContainsKey);
        return new UnetConfig
        {
            InChannels = (int)convIn[1],
            OutChannels = (int)convIn[1],
            ModelChannels = mc,
            ChannelMult = mults,
            NumResBlocks = res,
            TransformerDepth = depths,
            TransformerDepthMiddle = middle,
            ContextDim = context.Value,
            NumHeads = linear.Value ? -1 : 8,
            NumHeadChannels = linear.Value ? 64 : -1,
            UseLinearInTransformer = linear.Value,
            AdmInChannels = adm is null ? null : (int)shapes[adm][1],
        };
    }
}
