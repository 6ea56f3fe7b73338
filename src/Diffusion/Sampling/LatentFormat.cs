using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// How a family's VAE latent is scaled for the diffusion model (ComfyUI latent_formats.py): the sampler works on
/// <c>(latent − Shift) · Scale</c> and hands back <c>x / Scale + Shift</c>.
/// </summary>
public sealed record LatentFormat(string Name, double ScaleFactor, double ShiftFactor = 0, int Channels = 4)
{
    public static LatentFormat SD15 { get; } = new("SD15", 0.18215);
    public static LatentFormat SDXL { get; } = new("SDXL", 0.13025);
    public static LatentFormat SD3 { get; } = new("SD3", 1.5305, 0.0609, 16);
    public static LatentFormat Flux { get; } = new("Flux", 0.3611, 0.1159, 16);

    public Tensor ProcessIn(Tensor latent) =>
        ShiftFactor == 0 ? latent * ScaleFactor : (latent - ShiftFactor) * ScaleFactor;

    public Tensor ProcessOut(Tensor latent) =>
        ShiftFactor == 0 ? latent / ScaleFactor : latent / ScaleFactor + ShiftFactor;
}
