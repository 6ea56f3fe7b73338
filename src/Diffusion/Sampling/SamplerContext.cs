using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

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
