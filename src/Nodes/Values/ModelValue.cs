using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// ComfyUI's MODEL: a non-owning handle to a cached checkpoint's UNet (through a lease), with its model sampling and
/// latent format, and the LoRA stack this handle wants on those weights. The shared weights are patched only on the
/// tensor worker, right before the UNet runs (<see cref="PatchedUnet"/>). Disposing it releases the lease and its LoRA
/// patches, never the weights of a model something else still uses.
/// </summary>
public sealed class ModelValue : IDisposable
{
    private readonly ModelLease<StableDiffusionCheckpoint> _lease;

    public ModelValue(ModelLease<StableDiffusionCheckpoint> lease, IReadOnlyList<WeightedLora>? loras = null,
        IReadOnlyList<IpAdapterApplication>? ipAdapters = null)
    {
        _lease = lease;
        Loras = loras ?? [];
        IpAdapters = ipAdapters ?? [];
        ModelSampling = lease.Value.Prediction == PredictionType.VPrediction
            ? DiscreteModelSampling.VPrediction(lease.Value.Config.ZeroTerminalSnr)
            : DiscreteModelSampling.Eps();
    }

    public UnetModel Unet => _lease.Value.Unet
        ?? throw new InvalidOperationException($"'{System.IO.Path.GetFileName(_lease.Path)}' was loaded without its UNet");

    /// <summary>The LoRA stack (UNet patches only), applied in order; owned by this value.</summary>
    public IReadOnlyList<WeightedLora> Loras { get; }

    /// <summary>
    /// The shared UNet with exactly this value's LoRA stack applied (originals when the stack is empty). Call on the
    /// tensor worker right before running it; a stack already active costs nothing.
    /// </summary>
    public UnetModel PatchedUnet()
    {
        UnetModel unet = Unet;
        _lease.Value.UnetPatcher.Apply(Loras);
        return unet;
    }

    /// <summary>A new handle to the same weights with one more LoRA on top of this one's stack.</summary>
    public ModelValue WithLora(LoraPatches unetPatches, double strength) =>
        new(_lease.Share(), [.. ShareLoras(), new WeightedLora(unetPatches, strength)], ShareIpAdapters());

    /// <summary>
    /// The IP-Adapters applied to this model, in order (each apply node adds one); owned by this value. A fresh list per
    /// value, so a branch that uses an earlier MODEL never sees adapters added downstream (unlike cubiq's shared patch).
    /// </summary>
    public IReadOnlyList<IpAdapterApplication> IpAdapters { get; }

    /// <summary>A new handle to the same weights with one more IP-Adapter (taken over by the new value).</summary>
    public ModelValue WithIpAdapter(IpAdapterApplication adapter) =>
        new(_lease.Share(), ShareLoras(), [.. ShareIpAdapters(), adapter]);

    /// <summary>What the denoiser adds to each UNet call for this model: its IP-Adapters' attention patches.</summary>
    public IReadOnlyList<IUnetCallContributor> CallContributors() =>
        IpAdapters.Count == 0 ? [] : [new IpAdapterContributor(IpAdapters, new IpAdapterLayout(Unet))];

    public IModelSampling ModelSampling { get; }

    /// <summary>SD1.x and SD2.x share the SD1.5 latent format (×0.18215); SDXL has its own (×0.13025).</summary>
    public LatentFormat LatentFormat => _lease.Value.Family == ModelFamily.SDXLCheckpoint ? LatentFormat.SDXL : LatentFormat.SD15;

    /// <summary>Where the weights are: latents are moved here for sampling.</summary>
    public Device Device => Unet.OutConv.Weight.Value.Device;

    public string Path => _lease.Path;

    /// <summary>Another handle to the same model (for values that keep it, such as a GUIDER).</summary>
    public ModelValue Share() => new(_lease.Share(), ShareLoras(), ShareIpAdapters());

    private WeightedLora[] ShareLoras() => [.. Loras.Select(l => l with { Lora = l.Lora.Share() })];

    private IpAdapterApplication[] ShareIpAdapters() => [.. IpAdapters.Select(a => a.Share())];

    public void Dispose()
    {
        _lease.Dispose();
        foreach (WeightedLora l in Loras) l.Lora.Dispose();
        foreach (IpAdapterApplication a in IpAdapters) a.Dispose();
    }

    public override string ToString() => $"Model({System.IO.Path.GetFileName(Path)})";
}
