using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// x̂₀ = D(x, σ): the (guided) model's estimate of the clean latent from the noisy x at noise level σ, in k-diffusion
/// scaling (x = x₀ + σ·ε). Samplers are pure functions over this. The result belongs to the caller's current
/// <see cref="DisposeScope"/>.
/// </summary>
public delegate Tensor Denoiser(Tensor x, double sigma);

/// <summary>
/// Called once per sampler step, after the step's first model call and before x is updated (k-diffusion's callback):
/// <paramref name="step"/> counts from 0 to <paramref name="total"/> − 1. The tensors are only valid during the call.
/// Throw (e.g. <see cref="OperationCanceledException"/>) to stop sampling; samplers never swallow it.
/// </summary>
public delegate void SamplerCallback(int step, int total, Tensor x, Tensor denoised);

/// <summary>
/// A sampler: integrates from x at σ₀ down the schedule and returns the final x (owned by the caller; the input x is
/// left alone).
/// </summary>
public delegate Tensor SamplerFunction(Denoiser model, Tensor x, Sigmas sigmas, SamplerContext context);

/// <summary>What a sampler needs besides the model, x and the sigmas.</summary>
public sealed class SamplerContext
{
    /// <summary>The model's parameterization decides noise scaling (lcm) and the ancestral/SDE variant for flow models.</summary>
    public required IModelSampling ModelSampling { get; init; }

    /// <summary>The seed for the ancestral and SDE noise (ComfyUI's extra_args["seed"]).</summary>
    public ulong Seed { get; init; }

    public SamplerCallback? Callback { get; init; }

    /// <summary>
    /// Replaces the default noise of ancestral and SDE samplers (a CPU generator seeded with seed + 1, and a Brownian
    /// path seeded likewise). Called once per sampling run with the initial x.
    /// </summary>
    public Func<Tensor, INoiseSampler>? NoiseSamplerFactory { get; init; }

    internal void Report(int step, int total, Tensor x, Tensor denoised) => Callback?.Invoke(step, total, x, denoised);

    internal INoiseSampler CreateAncestralNoise(Tensor x) =>
        NoiseSamplerFactory?.Invoke(x) ?? new AncestralNoiseSampler(x, Seed);

    internal INoiseSampler CreateBrownianNoise(Tensor x, Sigmas sigmas)
    {
        if (NoiseSamplerFactory is not null) return NoiseSamplerFactory(x);
        double min = double.PositiveInfinity, max = 0;
        for (int i = 0; i < sigmas.Count; i++)
        {
            if (sigmas[i] > 0) min = Math.Min(min, sigmas[i]);
            max = Math.Max(max, sigmas[i]);
        }
        return new BrownianNoiseSampler(x, double.IsFinite(min) ? min : max, max, Seed);
    }
}
