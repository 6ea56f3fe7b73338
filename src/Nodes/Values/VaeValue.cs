using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Nodes.ModelCaching;

namespace CharacterGen.Nodes.Values;

/// <summary>ComfyUI's VAE: a non-owning handle to a cached autoencoder (a checkpoint's, or a VAE file's).</summary>
public sealed class VaeValue : IDisposable
{
    private readonly IDisposable _lease;
    private readonly Func<IDisposable> _share;

    private VaeValue(AutoencoderKL vae, string path, IDisposable lease, Func<IDisposable> share)
    {
        Vae = vae;
        Path = path;
        _lease = lease;
        _share = share;
    }

    public static VaeValue FromCheckpoint(ModelLease<StableDiffusionCheckpoint> lease) =>
        new(lease.Value.Vae ?? throw new InvalidOperationException($"'{System.IO.Path.GetFileName(lease.Path)}' has no VAE"),
            lease.Path, lease, lease.Share);

    public static VaeValue FromFile(ModelLease<AutoencoderKL> lease) => new(lease.Value, lease.Path, lease, lease.Share);

    public AutoencoderKL Vae { get; }

    public string Path { get; }

    /// <summary>Pixels per latent cell along each side (8 for SD's KL-f8).</summary>
    public int DownscaleFactor => Vae.Config.DownscaleFactor;

    public VaeValue Share() => new(Vae, Path, _share(), _share);

    public void Dispose() => _lease.Dispose();

    public override string ToString() => $"Vae({System.IO.Path.GetFileName(Path)})";
}
