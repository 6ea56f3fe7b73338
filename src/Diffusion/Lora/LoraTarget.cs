namespace CharacterGen.Diffusion.Lora;

/// <summary>Which network of a checkpoint a LoRA entry patches: strength_model applies to the UNet, strength_clip to CLIP.</summary>
public enum LoraTarget
{
    Unet,
    Clip,
}
