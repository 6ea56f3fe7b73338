namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// FLUX's rectified-flow schedule (ComfyUI ModelSamplingFlux): σ(t) = eˢ / (eˢ + 1/t − 1) for t in (0, 1], a table
/// of 10,000 values at t = i/10000, and the network's timestep is σ itself. The shift s is 1.15 for FLUX-dev by
/// default (the value μ takes at 1024², 4096 image tokens); the ModelSamplingFlux node derives it from the size.
/// </summary>
public sealed class FluxModelSampling : IModelSampling
{
    public const double DefaultShift = 1.15;
    public const double DefaultBaseShift = 0.5;
    public const double DefaultMaxShift = 1.15;
    private const int TableSize = 10000;

    private readonly float[] _sigmas;

    public FluxModelSampling(double shift = DefaultShift)
    {
        Shift = shift;
        _sigmas = new float[TableSize];
        // float32 as ComfyUI computes it: t = arange(1, N+1)/N, then the shift curve on a float32 tensor
        for (int i = 0; i < TableSize; i++) _sigmas[i] = ShiftCurveFloat(shift, (float)(i + 1) / TableSize);
    }

    /// <summary>The time shift s (μ) this schedule uses.</summary>
    public double Shift { get; }

    public Parameterization Parameterization => Parameterization.Const;

    public IReadOnlyList<float> SigmaTable => _sigmas;

    public double SigmaMin => _sigmas[0];

    public double SigmaMax => _sigmas[^1];

    // ComfyUI ModelSamplingFlux.timestep: the model takes σ (it multiplies by 1000 inside its embedding)
    public double Timestep(double sigma) => sigma;

    public double Sigma(double timestep) => ShiftCurve(Shift, timestep);

    // ComfyUI ModelSamplingFlux.percent_to_sigma: the curve at 1 − p, with the ends pinned to 1 and 0
    public double PercentToSigma(double percent)
    {
        if (percent <= 0.0) return 1.0;
        if (percent >= 1.0) return 0.0;
        return ShiftCurve(Shift, 1.0 - percent);
    }

    /// <summary>
    /// The shift for an image of <paramref name="width"/>×<paramref name="height"/> pixels (ComfyUI ModelSamplingFlux
    /// node, BFL get_lin_function): linear in the token count (W·H/256) through (256, base) and (4096, max).
    /// </summary>
    public static double ShiftForSize(double width, double height, double maxShift = DefaultMaxShift, double baseShift = DefaultBaseShift)
    {
        const double x1 = 256, x2 = 4096;
        double m = (maxShift - baseShift) / (x2 - x1);
        double b = baseShift - m * x1;
        return width * height / (8 * 8 * 2 * 2) * m + b;
    }

    /// <summary>σ = eˢ / (eˢ + 1/t − 1) in float64 (BFL time_shift with exponent 1).</summary>
    public static double ShiftCurve(double shift, double t)
    {
        double e = Math.Exp(shift);
        return e / (e + (1.0 / t - 1.0));
    }

    // The same in float32 as torch evaluates `exp(s) / (exp(s) + (1/t − 1))` on a float32 tensor: the Python
    // scalars are rounded to float32 and a scalar divided by a tensor is the tensor's reciprocal times the scalar.
    private static float ShiftCurveFloat(double shift, float t)
    {
        float e = (float)Math.Exp(shift);
        float r = 1f / t - 1f;
        return 1f / (e + r) * e;
    }
}
