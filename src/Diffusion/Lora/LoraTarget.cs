namespace CharacterGen.Diffusion.Lora;

/// <summary>Which network of a checkpoint a LoRA entry patches: strength_model applies to the UNet, strength_clip to CLIP (both of SDXL's encoders).</summary>
public enum LoraTarget
{
    Unet,
    Clip,

    /// <summary>SDXL's second text encoder (OpenCLIP bigG, clip_g); patched with strength_clip like <see cref="Clip"/>.</summary>
    ClipG,
}
