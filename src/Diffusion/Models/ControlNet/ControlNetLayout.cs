using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>How a ControlNet file names its tensors.</summary>
public enum ControlNetKeyLayout
{
    /// <summary>lllyasviel's .pth/.safetensors: "control_model.input_blocks…", "control_model.zero_convs…".</summary>
    LdmPrefixed,

    /// <summary>The same names without "control_model." (ComfyUI-saved and many community files).</summary>
    Ldm,

    /// <summary>diffusers ControlNetModel: controlnet_cond_embedding, down_blocks, controlnet_down_blocks, controlnet_mid_block.</summary>
    Diffusers,
}

/// <summary>
/// Tells a ControlNet file's layout from its tensor names in ComfyUI's order (comfy/controlnet.py
/// load_controlnet_state_dict), and refuses what CharacterGen does not run, naming what the file looks like: Stability
/// Control-LoRA, union ControlNets, FLUX/SD3/HunyuanDiT/Qwen ControlNets, T2I-Adapters and Stable Cascade ControlNets,
/// and files that are no ControlNet at all (checkpoints, LoRAs, IP-Adapters, VAEs).
/// </summary>
public static class ControlNetLayout
{
    public const string LdmPrefix = "control_model.";

    /// <summary>What this loader accepts, for messages.</summary>
    public const string Expected = "an SD1.x/SD2.x/SDXL ControlNet (LDM layout with or without \"control_model.\", or diffusers layout)";

    /// <summary>The layout and the prefix of LDM names; throws <see cref="CheckpointLoadException"/> for anything else.</summary>
    public static (ControlNetKeyLayout Layout, string Prefix) Detect(IReadOnlyCollection<string> names, string fileName)
    {
        bool Has(string key) => names.Contains(key);
        bool Any(string prefix) => names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal));
        CheckpointLoadException Refuse(string looksLike) =>
            new($"'{fileName}' is not {Expected}: it looks like {looksLike}");

        if (Has("after_proj_list.18.bias")) throw Refuse("a HunyuanDiT ControlNet, which is not supported");
        if (Has("lora_controlnet"))
            throw Refuse("a Stability Control-LoRA (\"lora_controlnet\": weights rebuilt from the model's UNet plus low-rank deltas), which is not supported yet");
        if (Has(ControlNetDiffusersNames.MarkerKey))
        {
            if (Has("control_add_embedding.linear_1.bias"))
                throw Refuse("a diffusers ControlNet-Union (task_embedding/control_add_embedding), which is not supported yet");
            return (ControlNetKeyLayout.Diffusers, "");
        }
        if (Has("controlnet_blocks.0.weight"))
        {
            if (Has("double_blocks.0.img_attn.norm.key_norm.scale")) throw Refuse("a FLUX ControlNet (XLabs), which is not supported");
            if (Has("pos_embed_input.proj.weight")) throw Refuse("an SD3/SD3.5 ControlNet, which is not supported");
            if (Has("transformer_blocks.0.img_mlp.net.0.proj.weight")) throw Refuse("a Qwen-Image ControlNet, which is not supported");
            if (Has("controlnet_x_embedder.weight")) throw Refuse("a FLUX ControlNet (InstantX/Union-Pro), which is not supported");
            throw Refuse("a DiT ControlNet, which is not supported");
        }
        if (Has("controlnet_blocks.0.linear.weight")) throw Refuse("a FLUX ControlNet (Mistoline), which is not supported");
        if (Has("control_blocks.0.after_proj.weight")) throw Refuse("a Qwen-Image Fun ControlNet, which is not supported");
        if (Has(LdmPrefix + "zero_convs.0.0.weight")) return (ControlNetKeyLayout.LdmPrefixed, LdmPrefix);
        if (Has("zero_convs.0.0.weight")) return (ControlNetKeyLayout.Ldm, "");

        if (Has("adapter.body.0.resnets.0.block1.weight") || Has("body.0.in_conv.weight")
            || (Has("conv_in.weight") && Has("body.0.block2.weight")))
            throw Refuse("a T2I-Adapter, which is not supported");
        if (Has("backbone.0.0.weight") || Has("backbone.10.blocks.0.weight")) throw Refuse("a Stable Cascade ControlNet, which is not supported");
        if (Any("image_proj.") && Any("ip_adapter.")) throw Refuse("an IP-Adapter (load it with IPAdapterModelLoader)");
        throw Refuse("a " + ModelFamilyDetector.Detect(names).Describe());
    }

    /// <summary>"SDXL", "SD2.x" or "SD1.x" for an encoder configuration (ADM input, then linear projections).</summary>
    public static string FamilyName(UnetConfig config) =>
        config.AdmInChannels is not null ? "SDXL" : config.UseLinearInTransformer ? "SD2.x" : "SD1.x";

    /// <summary>The encoder sizes a ControlNet and a UNet must share for the residuals to fit.</summary>
    public static string Describe(UnetConfig config) =>
        $"{FamilyName(config)} (model_channels {config.ModelChannels}, channel_mult [{string.Join(",", config.ChannelMult)}], "
        + $"context_dim {config.ContextDim}{(config.AdmInChannels is int adm ? $", adm {adm}" : "")})";

    /// <summary>True when residuals of a net with <paramref name="net"/> fit a UNet with <paramref name="unet"/>.</summary>
    public static bool Fits(UnetConfig net, UnetConfig unet) =>
        net.ModelChannels == unet.ModelChannels && net.ChannelMult.SequenceEqual(unet.ChannelMult)
        && net.NumResBlocks == unet.NumResBlocks && net.ContextDim == unet.ContextDim && net.AdmInChannels == unet.AdmInChannels;
}
