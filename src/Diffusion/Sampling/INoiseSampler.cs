using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// Standard-normal noise shaped like the sampler's x for the step from σ to σ_next (k-diffusion's noise_sampler).
/// The result belongs to the caller's current scope.
/// </summary>
public interface INoiseSampler : IDisposable
{
    Tensor Sample(double sigma, double sigmaNext);
}

/// <summary>
/// ComfyUI's default_noise_sampler for x on the CPU (v0.8.0): one CPU generator seeded with seed + 1, kept for the
/// run, drawing randn(x.shape) per call, moved to x's device. (On a GPU ComfyUI draws from the CUDA Philox generator
/// seeded with seed; matching that is out of scope.)
/// </summary>
public sealed class AncestralNoiseSampler : INoiseSampler
{
    private readonly Generator _generator;
    private readonly long[] _shape;
    private readonly DType _dtype;
    private readonly Device _device;

    public AncestralNoiseSampler(Tensor like, ulong seed)
    {
        _generator = new Generator(unchecked(seed + 1));
        _shape = like.Shape;
        _dtype = like.DType;
        _device = like.Device;
    }

    public Tensor Sample(double sigma, double sigmaNext) => Torch.Randn(_shape, _generator, _dtype, _device);

    public void Dispose() => _generator.Dispose();
}
