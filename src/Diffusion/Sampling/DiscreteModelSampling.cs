namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// The discrete DDPM schedule of SD1.x, SD2.x and SDXL (ComfyUI ModelSamplingDiscrete): betas from the "linear"
/// (scaled-linear) schedule in float64, ᾱ = Π(1−β), σ = √((1−ᾱ)/ᾱ) stored as float32, log σ stored as float32.
/// </summary>
public sealed class DiscreteModelSampling : IModelSampling
{
    private readonly float[] _sigmas;
    private readonly float[] _logSigmas;

    public DiscreteModelSampling(Parameterization parameterization, double linearStart = 0.00085, double linearEnd = 0.012,
        int timesteps = 1000, bool zeroTerminalSnr = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timesteps, 2);
        Parameterization = parameterization;
        double[] sigmas = ComputeSigmas(linearStart, linearEnd, timesteps);
        if (zeroTerminalSnr) RescaleZeroTerminalSnr(sigmas);
        _sigmas = sigmas.Select(s => (float)s).ToArray();
        _logSigmas = sigmas.Select(s => (float)Math.Log(s)).ToArray();
    }

    /// <summary>SD1.x / SDXL ε-prediction.</summary>
    public static DiscreteModelSampling Eps() => new(Parameterization.Eps);

    /// <summary>SD2-768 / v-prediction fine-tunes.</summary>
    public static DiscreteModelSampling VPrediction(bool zeroTerminalSnr = false) =>
        new(Parameterization.VPrediction, zeroTerminalSnr: zeroTerminalSnr);

    public Parameterization Parameterization { get; }

    public IReadOnlyList<float> SigmaTable => _sigmas;

    public double SigmaMin => _sigmas[0];

    public double SigmaMax => _sigmas[^1];

    // ComfyUI ModelSamplingDiscrete.timestep: argmin |log σ − log_sigmas| (float32, first index on ties)
    public double Timestep(double sigma)
    {
        float logSigma = (float)Math.Log((float)sigma);
        int best = 0;
        float bestDist = float.PositiveInfinity;
        for (int i = 0; i < _logSigmas.Length; i++)
        {
            float dist = Math.Abs(logSigma - _logSigmas[i]);
            if (dist < bestDist)
            {
                bestDist = dist;
                best = i;
            }
        }
        return best;
    }

    // ComfyUI ModelSamplingDiscrete.sigma: exp of the linear interpolation of log σ between neighbouring indices
    public double Sigma(double timestep)
    {
        float t = Math.Clamp((float)timestep, 0f, _sigmas.Length - 1);
        int low = (int)MathF.Floor(t), high = (int)MathF.Ceiling(t);
        float w = t - MathF.Truncate(t);
        float logSigma = (1 - w) * _logSigmas[low] + w * _logSigmas[high];
        return MathF.Exp(logSigma);
    }

    // ComfyUI ModelSamplingDiscrete.percent_to_sigma
    public double PercentToSigma(double percent)
    {
        if (percent <= 0.0) return 999999999.9;
        if (percent >= 1.0) return 0.0;
        return Sigma((1.0 - percent) * 999.0);
    }

    /// <summary>σ for each timestep, float64, from the LDM "linear" beta schedule (diffusers "scaled_linear").</summary>
    internal static double[] ComputeSigmas(double linearStart, double linearEnd, int timesteps)
    {
        double[] root = Linspace(Math.Sqrt(linearStart), Math.Sqrt(linearEnd), timesteps);
        var sigmas = new double[timesteps];
        double alphaCumprod = 1.0;
        for (int i = 0; i < timesteps; i++)
        {
            double beta = root[i] * root[i];
            alphaCumprod *= 1.0 - beta;
            sigmas[i] = Math.Sqrt((1.0 - alphaCumprod) / alphaCumprod);
        }
        return sigmas;
    }

    // ComfyUI rescale_zero_terminal_snr_sigmas (Lin et al. 2023, "Common Diffusion Noise Schedules are Flawed")
    private static void RescaleZeroTerminalSnr(double[] sigmas)
    {
        double[] root = sigmas.Select(s => Math.Sqrt(1.0 / (s * s + 1.0))).ToArray();
        double first = root[0], last = root[^1];
        for (int i = 0; i < root.Length; i++)
        {
            double r = (root[i] - last) * (first / (first - last));
            double alphaBar = i == root.Length - 1 ? 4.8973451890853435e-08 : r * r;
            sigmas[i] = Math.Sqrt((1.0 - alphaBar) / alphaBar);
        }
    }

    /// <summary>torch.linspace in float64: the first half counts up from start, the second half down from end.</summary>
    internal static double[] Linspace(double start, double end, int steps)
    {
        var result = new double[steps];
        if (steps == 1)
        {
            result[0] = start;
            return result;
        }
        double step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++)
            result[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        return result;
    }
}
