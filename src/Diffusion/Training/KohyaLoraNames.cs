using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// kohya sd-scripts' LoRA key for a UNet module: "lora_unet_" + the module path with dots as underscores. SD1.x/SD2.x
/// LoRAs name diffusers modules ("down_blocks_0_attentions_0_…"); SDXL LoRAs name LDM modules
/// ("input_blocks_4_1_transformer_blocks_0_attn1_to_q"), as sdxl_train_network.py writes them.
/// </summary>
public sealed class KohyaLoraNames
{
    public const string UnetPrefix = "lora_unet_";

    private readonly Dictionary<string, string>? _ldmToDiffusers;

    public KohyaLoraNames(UnetConfig config, ModelFamily family)
    {
        if (family == ModelFamily.SDXLCheckpoint) return;
        _ldmToDiffusers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (diffusers, ldm) in UnetDiffusersNames.Modules(config)) _ldmToDiffusers.TryAdd(ldm, diffusers);
    }

    /// <summary>The key (without ".lora_down.weight") for an LDM module name.</summary>
    public string UnetKey(string ldmModule)
    {
        string path = _ldmToDiffusers is not null && _ldmToDiffusers.TryGetValue(ldmModule, out string? d) ? d : ldmModule;
        return UnetPrefix + path.Replace('.', '_');
    }
}
