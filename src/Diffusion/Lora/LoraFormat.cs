namespace CharacterGen.Diffusion.Lora;

/// <summary>How a LoRA file names its tensors (ComfyUI accepts all of them through one key map plus suffix list).</summary>
public enum LoraFormat
{
    /// <summary>Nothing recognisable.</summary>
    Unknown,

    /// <summary>kohya-ss: <c>lora_unet_…/lora_te_….lora_up/lora_down.weight</c> (+ alpha).</summary>
    Kohya,

    /// <summary>LyCORIS LoCon: kohya names with a <c>lora_mid</c> (Tucker) core on convolutions.</summary>
    LycorisLoCon,

    /// <summary>diffusers/PEFT: <c>….lora_A/lora_B(.default).weight</c>.</summary>
    Peft,

    /// <summary>Older diffusers: <c>…_lora.up/down.weight</c>, <c>….lora.up/down.weight</c>, <c>….lora_linear_layer.up/down.weight</c>.</summary>
    Diffusers,
}
