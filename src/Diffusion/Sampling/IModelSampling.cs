using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// A model's noise schedule (σ ↔ network timestep, σ range, the table the discrete schedulers pick from) and its
/// <see cref="Parameterization"/>. Pure: it never calls the network. ComfyUI: the model_sampling object.
/// </summary>
public interface IModelSampling
{
    Parameterization Parameterization { get; }

    double SigmaMin { get; }

    double SigmaMax { get; }

    /// <summary>The model's σ table in increasing order (float32, as ComfyUI stores it).</summary>
    IReadOnlyList<float> SigmaTable { get; }

    /// <summary>The network's timestep for σ (an integer index for discrete models).</summary>
    double Timestep(double sigma);

    /// <summary>σ at a (possibly fractional) timestep.</summary>
    double Sigma(double timestep);

    /// <summary>σ at a fraction of the sampling process (0 = start, 1 = end), for start/end percent conditions.</summary>
    double PercentToSigma(double percent);
}

public static class ModelSamplingExtensions
{
    /// <summary>Timesteps for a [B] σ tensor, float32, on σ's device.</summary>
    public static Tensor Timestep(this IModelSampling ms, Tensor sigma)
    {
        using var scope = Torch.NewScope();
        double[] s = sigma.Flatten().To(Device.Cpu, DType.Float64).ToArray<double>();
        double[] t = s.Select(ms.Timestep).ToArray();
        return Torch.FromArray<double>(t, [t.Length]).To(sigma.Device, DType.Float32).MoveToOuterScope();
    }

    public static Tensor CalculateInput(this IModelSampling ms, Tensor sigma, Tensor x) =>
        ms.Parameterization.CalculateInput(sigma, x);

    public static Tensor CalculateDenoised(this IModelSampling ms, Tensor sigma, Tensor modelOutput, Tensor modelInput) =>
        ms.Parameterization.CalculateDenoised(sigma, modelOutput, modelInput);

    public static Tensor NoiseScaling(this IModelSampling ms, double sigma, Tensor noise, Tensor latent, bool maxDenoise = false) =>
        ms.Parameterization.NoiseScaling(sigma, noise, latent, maxDenoise);

    public static Tensor InverseNoiseScaling(this IModelSampling ms, double sigma, Tensor latent) =>
        ms.Parameterization.InverseNoiseScaling(sigma, latent);

    /// <summary>
    /// ComfyUI's max_denoise test: the first σ is at (relative 1e-5) or above the model's σ_max, so the initial
    /// noise is scaled by √(1+σ²) for ε/v models.
    /// </summary>
    public static bool IsMaxDenoise(this IModelSampling ms, double firstSigma) =>
        Math.Abs(ms.SigmaMax - firstSigma) <= 1e-5 * Math.Max(Math.Abs(ms.SigmaMax), Math.Abs(firstSigma))
        || firstSigma > ms.SigmaMax;

    /// <summary>
    /// One denoiser evaluation around a raw network (ComfyUI BaseModel.apply_model): scales x to the network input,
    /// converts σ to the timestep, runs <paramref name="network"/>(input, timestep) and turns its output into x̂₀.
    /// The network side uses this to implement <see cref="IConditionedDenoiser{TCond}"/>.
    /// </summary>
    public static Tensor ApplyModel(this IModelSampling ms, Tensor x, Tensor sigma, Func<Tensor, Tensor, Tensor> network)
    {
        using var scope = Torch.NewScope();
        Tensor input = ms.CalculateInput(sigma, x);
        Tensor timestep = ms.Timestep(sigma);
        Tensor output = network(input, timestep);
        if (output.DType != x.DType) output = output.To(x.DType);
        return ms.CalculateDenoised(sigma, output, x).MoveToOuterScope();
    }
}
