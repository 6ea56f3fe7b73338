using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// The DDPM forward process used for training SD1.x/SD2.x/SDXL (diffusers DDPMScheduler "scaled_linear", β 0.00085 →
/// 0.012 over 1000 steps; LDM "linear"): ᾱ_t = Π(1−β), x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε. Computed in float64 from the same
/// betas the samplers use, so a trained model and its sampler agree on every σ_t = √((1−ᾱ_t)/ᾱ_t).
/// </summary>
public sealed class DiffusionNoiseSchedule
{
    private readonly double[] _alphaCumprod;

    public DiffusionNoiseSchedule(double linearStart = 0.00085, double linearEnd = 0.012, int timesteps = 1000)
    {
        double[] sigmas = DiscreteModelSampling.ComputeSigmas(linearStart, linearEnd, timesteps);
        _alphaCumprod = sigmas.Select(s => 1.0 / (s * s + 1.0)).ToArray();
    }

    public int Timesteps => _alphaCumprod.Length;

    public double AlphaCumprod(int t) => _alphaCumprod[t];

    /// <summary>σ_t in k-diffusion's scaling (x_σ = x₀ + σ·ε).</summary>
    public double Sigma(int t) => Math.Sqrt((1 - _alphaCumprod[t]) / _alphaCumprod[t]);

    /// <summary>√ᾱ_t as a [B, 1, …, 1] float32 tensor of rank <paramref name="rank"/> for integer timesteps.</summary>
    public Tensor SqrtAlphaCumprod(IReadOnlyList<int> timesteps, int rank) => Column(timesteps, t => Math.Sqrt(_alphaCumprod[t]), rank);

    /// <summary>√(1−ᾱ_t) as a [B, 1, …, 1] float32 tensor.</summary>
    public Tensor SqrtOneMinusAlphaCumprod(IReadOnlyList<int> timesteps, int rank) => Column(timesteps, t => Math.Sqrt(1 - _alphaCumprod[t]), rank);

    internal static Tensor Column(IReadOnlyList<int> timesteps, Func<int, double> value, int rank)
    {
        float[] v = timesteps.Select(t => (float)value(t)).ToArray();
        long[] shape = [v.Length, .. Enumerable.Repeat(1L, rank - 1)];
        return Torch.FromArray(v, shape);
    }
}
