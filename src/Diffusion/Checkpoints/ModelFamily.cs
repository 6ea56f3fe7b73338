namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>What a weights file holds, as far as its tensor names tell.</summary>
public enum ModelFamily
{
    Unknown,
    SD1Checkpoint,
    SD2Checkpoint,
    SDXLCheckpoint,
    FluxDiffusionModel,
    Vae,
    Lora,
    TextEncoder,
}

public static class ModelFamilyNames
{
    public static string Describe(this ModelFamily family) => family switch
    {
        ModelFamily.SD1Checkpoint => "Stable Diffusion 1.x checkpoint (UNet + CLIP-L + VAE)",
        ModelFamily.SD2Checkpoint => "Stable Diffusion 2.x checkpoint (UNet + OpenCLIP-H + VAE)",
        ModelFamily.SDXLCheckpoint => "Stable Diffusion XL checkpoint (UNet + CLIP-L + OpenCLIP-bigG + VAE)",
        ModelFamily.FluxDiffusionModel => "FLUX diffusion model",
        ModelFamily.Vae => "VAE",
        ModelFamily.Lora => "LoRA",
        ModelFamily.TextEncoder => "text encoder",
        _ => "unknown (not a recognised model layout)",
    };
}
