using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>Where a checkpoint's configuration came from.</summary>
public enum ConfigSource
{
    /// <summary>The <c>charactergen.config</c> metadata of a checkpoint we wrote.</summary>
    Metadata,

    /// <summary>Tensor names and shapes, as ComfyUI's model detection.</summary>
    Detected,
}

/// <summary>The networks of a loaded SD1.x/SD2.x/SDXL single-file checkpoint and what was learned about it. Owns the weights.</summary>
public sealed class StableDiffusionCheckpoint(
    CheckpointConfig config, ConfigSource source, UnetModel? unet, ClipTextModel? clip, AutoencoderKL? vae,
    IReadOnlyList<string> unusedKeys, ClipTextModel? clipG = null) : IDisposable
{
    public CheckpointConfig Config { get; } = config;
    public ConfigSource ConfigSource { get; } = source;
    public ModelFamily Family => Config.ModelFamily;
    public PredictionType Prediction => Config.Prediction;

    /// <summary>ComfyUI's default CLIPSetLastLayer value for the family (SD1 −1, SD2 and SDXL −2).</summary>
    public int DefaultClipLayer => Config.DefaultClipLayer;

    /// <summary>The networks asked for (see <see cref="CheckpointParts"/>); null for those not loaded.</summary>
    public UnetModel? Unet { get; } = unet;
    public ClipTextModel? Clip { get; } = clip;

    /// <summary>SDXL's OpenCLIP bigG (loaded with <see cref="CheckpointParts.Clip"/>); null for SD1/SD2.</summary>
    public ClipTextModel? ClipG { get; } = clipG;
    public AutoencoderKL? Vae { get; } = vae;

    /// <summary>Keys of the file that no loaded network used (EMA copies, position_ids buffers, parts not asked for, …).</summary>
    public IReadOnlyList<string> UnusedKeys { get; } = unusedKeys;

    private WeightPatcher? _unetPatcher, _clipPatcher, _clipGPatcher;

    /// <summary>
    /// The LoRA stack state of the shared UNet weights: every user applies its stack (possibly empty) through it right
    /// before running the UNet, so the weights always match the job that runs.
    /// </summary>
    public WeightPatcher UnetPatcher => _unetPatcher ??= new(Unet ?? throw new InvalidOperationException("no UNet loaded"), LoraTarget.Unet);

    /// <summary>The LoRA stack state of the shared text encoder weights (see <see cref="UnetPatcher"/>).</summary>
    public WeightPatcher ClipPatcher => _clipPatcher ??= new(Clip ?? throw new InvalidOperationException("no text encoder loaded"), LoraTarget.Clip);

    /// <summary>The LoRA stack state of SDXL's clip_g weights (see <see cref="UnetPatcher"/>).</summary>
    public WeightPatcher ClipGPatcher => _clipGPatcher ??= new(ClipG ?? throw new InvalidOperationException("no clip_g text encoder loaded"), LoraTarget.ClipG);

    public void Dispose()
    {
        _unetPatcher?.Dispose();
        _clipPatcher?.Dispose();
        _clipGPatcher?.Dispose();
        Unet?.Dispose();
        Clip?.Dispose();
        ClipG?.Dispose();
        Vae?.Dispose();
    }
}

/// <summary>Which networks of a checkpoint to load.</summary>
[Flags]
public enum CheckpointParts
{
    Unet = 1,
    Clip = 2,
    Vae = 4,
    All = Unet | Clip | Vae,
}
