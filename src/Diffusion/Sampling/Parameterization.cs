using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// What the network predicts and how the sampler's x and σ map to its input and back to x̂₀
/// (ComfyUI model_sampling.py EPS, V_PREDICTION, CONST). Samplers work in k-diffusion's scaling,
/// x = x₀ + σ·ε (or x = (1−σ)·x₀ + σ·ε for flow models).
/// </summary>
public abstract class Parameterization
{
    /// <summary>ε-prediction (SD1.x, SDXL, SD2-base).</summary>
    public static Parameterization Eps { get; } = new EpsParameterization();

    /// <summary>v-prediction with σ_data = 1 (SD2-768, some SDXL fine-tunes).</summary>
    public static Parameterization VPrediction { get; } = new VParameterization();

    /// <summary>Rectified flow (Flux, SD3): x = (1−σ)·x₀ + σ·ε, the network predicts ε − x₀.</summary>
    public static Parameterization Const { get; } = new ConstParameterization();

    public abstract string Name { get; }

    /// <summary>True for flow models; ancestral and SDE samplers use their "RF" variants.</summary>
    public virtual bool IsFlow => false;

    /// <summary>The network input for x at σ (σ is a [B] or scalar tensor).</summary>
    public virtual Tensor CalculateInput(Tensor sigma, Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor s = ReshapeSigma(sigma, x.Dim);
        return (x / (s * s + 1).Sqrt()).MoveToOuterScope();
    }

    /// <summary>x̂₀ from the network output for the input x at σ.</summary>
    public abstract Tensor CalculateDenoised(Tensor sigma, Tensor modelOutput, Tensor modelInput);

    /// <summary>
    /// The noisy latent at σ for a clean latent and unit noise. <paramref name="maxDenoise"/> (σ at the schedule's
    /// maximum) uses √(1+σ²) instead of σ, as ComfyUI does for ε/v models.
    /// </summary>
    public virtual Tensor NoiseScaling(double sigma, Tensor noise, Tensor latent, bool maxDenoise = false)
    {
        double scale = maxDenoise ? Math.Sqrt(1.0 + sigma * sigma) : sigma;
        return latent.Add(noise, scale);
    }

    /// <summary>Undoes the scaling of the final sample at the last σ (identity except for flow models).</summary>
    public virtual Tensor InverseNoiseScaling(double sigma, Tensor latent) => latent.Alias();

    /// <summary>λ = log(α/σ), the half log-SNR used by the DPM-Solver++ SDE samplers (−ln σ for ε/v).</summary>
    public virtual double HalfLogSnr(double sigma) => -Math.Log(sigma);

    /// <summary>Inverse of <see cref="HalfLogSnr"/>.</summary>
    public virtual double SigmaFromHalfLogSnr(double halfLogSnr) => Math.Exp(-halfLogSnr);

    public override string ToString() => Name;

    /// <summary>σ as [B, 1, 1, …] to broadcast over x, or a scalar when it has one element (ComfyUI reshape_sigma).</summary>
    internal static Tensor ReshapeSigma(Tensor sigma, int dims)
    {
        if (sigma.NumElements == 1) return sigma.Reshape();
        var shape = new long[dims];
        Array.Fill(shape, 1L);
        shape[0] = sigma.Size(0);
        return sigma.Reshape(shape);
    }

    private sealed class EpsParameterization : Parameterization
    {
        public override string Name => "eps";

        // ComfyUI EPS.calculate_denoised: x₀ = x − ε·σ
        public override Tensor CalculateDenoised(Tensor sigma, Tensor modelOutput, Tensor modelInput)
        {
            using var scope = Torch.NewScope();
            return (modelInput - modelOutput * ReshapeSigma(sigma, modelOutput.Dim)).MoveToOuterScope();
        }
    }

    private sealed class VParameterization : Parameterization
    {
        public override string Name => "v_prediction";

        // ComfyUI V_PREDICTION.calculate_denoised with σ_data = 1: x₀ = x/(σ²+1) − v·σ/√(σ²+1)
        public override Tensor CalculateDenoised(Tensor sigma, Tensor modelOutput, Tensor modelInput)
        {
            using var scope = Torch.NewScope();
            Tensor s = ReshapeSigma(sigma, modelOutput.Dim);
            Tensor s2p1 = s * s + 1;
            return (modelInput / s2p1 - modelOutput * s / s2p1.Sqrt()).MoveToOuterScope();
        }
    }

    private sealed class ConstParameterization : Parameterization
    {
        public override string Name => "const";

        public override bool IsFlow => true;

        public override Tensor CalculateInput(Tensor sigma, Tensor x) => x.Alias();

        // ComfyUI CONST.calculate_denoised: x₀ = x − out·σ
        public override Tensor CalculateDenoised(Tensor sigma, Tensor modelOutput, Tensor modelInput)
        {
            using var scope = Torch.NewScope();
            return (modelInput - modelOutput * ReshapeSigma(sigma, modelOutput.Dim)).MoveToOuterScope();
        }

        // ComfyUI CONST.noise_scaling: x = σ·noise + (1−σ)·latent (no max-denoise rule)
        public override Tensor NoiseScaling(double sigma, Tensor noise, Tensor latent, bool maxDenoise = false)
        {
            using var scope = Torch.NewScope();
            return (noise * sigma).Add(latent, 1.0 - sigma).MoveToOuterScope();
        }

        public override Tensor InverseNoiseScaling(double sigma, Tensor latent) => latent / (1.0 - sigma);

        // k-diffusion sigma_to_half_log_snr for CONST: log((1−σ)/σ)
        public override double HalfLogSnr(double sigma) => Math.Log((1.0 - sigma) / sigma);

        public override double SigmaFromHalfLogSnr(double halfLogSnr) => 1.0 / (1.0 + Math.Exp(halfLogSnr));
    }
}
