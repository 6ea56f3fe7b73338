using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// The forward (noising) process of the SD1.5 discrete schedule for ε-prediction training (DDPM, Ho et al. 2020):
/// x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε with ᾱ_t = 1/(1 + σ_t²) from the same σ table the samplers use, so the timesteps a
/// trained model sees are the ones <see cref="DiscreteModelSampling.Timestep"/> gives it at sampling time.
/// </summary>
public sealed class DiffusionNoising
{
    private readonly double[] _signal;
    private readonly double[] _noise;

    public DiffusionNoising(DiscreteModelSampling? sampling = null)
    {
        IReadOnlyList<float> sigmas = (sampling ?? DiscreteModelSampling.Eps()).SigmaTable;
        _signal = sigmas.Select(s => 1 / Math.Sqrt(1 + (double)s * s)).ToArray();
        _noise = sigmas.Select(s => s / Math.Sqrt(1 + (double)s * s)).ToArray();
    }

    public int Timesteps => _signal.Length;

    /// <summary>Uniform integer timesteps in [0, <see cref="Timesteps"/>), one per batch row.</summary>
    public int[] SampleTimesteps(DemoRandom random, int batch) =>
        Enumerable.Range(0, batch).Select(_ => random.Next(Timesteps)).ToArray();

    /// <summary>
    /// Min-SNR-γ loss weights for ε-prediction (Hang et al. 2023): min(SNR_t, γ)/SNR_t with SNR_t = ᾱ_t/(1 − ᾱ_t), one per
    /// row, shaped to broadcast over x₀. Low-noise steps (large SNR) stop dominating the gradient, which the paper measured
    /// to converge several times faster.
    /// </summary>
    public Tensor MinSnrWeights(int[] timesteps, double gamma, int dims)
    {
        long[] shape = [timesteps.Length, .. Enumerable.Repeat(1L, dims - 1)];
        return Torch.FromArray(timesteps.Select(t =>
        {
            double snr = _signal[t] * _signal[t] / (_noise[t] * _noise[t]);
            return (float)(Math.Min(snr, gamma) / snr);
        }).ToArray(), shape);
    }

    /// <summary>x_t for clean latents x₀ [B, …] at <paramref name="timesteps"/> (one per row) with noise ε of x₀'s shape.</summary>
    public Tensor AddNoise(Tensor x0, Tensor noise, int[] timesteps)
    {
        using var scope = Torch.NewScope();
        long[] shape = [timesteps.Length, .. Enumerable.Repeat(1L, x0.Dim - 1)];
        Tensor a = Torch.FromArray(timesteps.Select(t => (float)_signal[t]).ToArray(), shape);
        Tensor b = Torch.FromArray(timesteps.Select(t => (float)_noise[t]).ToArray(), shape);
        return (x0 * a + noise * b).MoveToOuterScope();
    }
}
