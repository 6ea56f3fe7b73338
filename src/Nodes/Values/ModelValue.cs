using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Nodes.Models;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// ComfyUI's MODEL: a non-owning handle to a cached checkpoint's UNet (through a lease), with its model sampling and
/// latent format. Disposing it releases the lease, never the weights of a model something else still uses.
/// </summary>
public sealed class ModelValue : IDisposable
{
    private readonly ModelLease<StableDiffusionCheckpoint> _lease;

    public ModelValue(ModelLease<StableDiffusionCheckpoint> lease)
    {
        _lease = lease;
        ModelSampling = lease.Value.Prediction == PredictionType.VPrediction
            ? DiscreteModelSampling.VPrediction(lease.Value.Config.ZeroTerminalSnr)
            : DiscreteModelSampling.Eps();
    }

    public UnetModel Unet => _lease.Value.Unet
        ?? throw new InvalidOperationException($"'{System.IO.Path.GetFileName(_lease.Path)}' was loaded without its UNet");

    public IModelSampling ModelSampling { get; }

    /// <summary>SD1.x and SD2.x share the SD1.5 latent format (×0.18215); SDXL has its own (×0.13025).</summary>
    public LatentFormat LatentFormat => _lease.Value.Family == ModelFamily.SDXLCheckpoint ? LatentFormat.SDXL : LatentFormat.SD15;

    /// <summary>Where the weights are: latents are moved here for sampling.</summary>
    public Device Device => Unet.OutConv.Weight.Value.Device;

    public string Path => _lease.Path;

    /// <summary>Another handle to the same model (for values that keep it, such as a GUIDER).</summary>
    public ModelValue Share() => new(_lease.Share());

    public void Dispose() => _lease.Dispose();

    public override string ToString() => $"Model({System.IO.Path.GetFileName(Path)})";
}
