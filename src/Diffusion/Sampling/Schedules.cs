namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// The noise schedules behind ComfyUI's scheduler names (comfy/samplers.py, k-diffusion get_sigmas_*). Each returns
/// steps + 1 values ending in 0 (normal and ddim_uniform return steps + 1 model σs instead when the model's table
/// reaches 0).
/// </summary>
public static class Schedules
{
    // ComfyUI simple_scheduler: every (N/steps)-th entry of the σ table from the top.
    public static Sigmas Simple(IModelSampling ms, int steps)
    {
        RequireSteps(steps);
        IReadOnlyList<float> table = ms.SigmaTable;
        double stride = table.Count / (double)steps;
        var sigmas = new List<double>(steps + 1);
        for (int i = 0; i < steps; i++) sigmas.Add(table[table.Count - 1 - (int)(i * stride)]);
        sigmas.Add(0);
        return new Sigmas(sigmas);
    }

    // ComfyUI ddim_scheduler: table entries 1, 1+c, 1+2c, … (c = N // steps), reversed.
    public static Sigmas DdimUniform(IModelSampling ms, int steps)
    {
        RequireSteps(steps);
        IReadOnlyList<float> table = ms.SigmaTable;
        var sigmas = new List<double>();
        if (Math.Abs(table[1]) <= 1e-5) steps += 1;
        else sigmas.Add(0);
        int stride = Math.Max(table.Count / steps, 1);
        for (int x = 1; x < table.Count; x += stride) sigmas.Add(table[x]);
        sigmas.Reverse();
        return new Sigmas(sigmas);
    }

    // ComfyUI normal_scheduler: timesteps evenly spaced from t(σ_max) to t(σ_min), mapped back through σ(t).
    // sgm_uniform spaces steps + 1 timesteps and drops the last ("SGM" = Stability's generative-models repo).
    public static Sigmas Normal(IModelSampling ms, int steps, bool sgm = false)
    {
        RequireSteps(steps);
        double start = ms.Timestep(ms.SigmaMax), end = ms.Timestep(ms.SigmaMin);
        bool appendZero = true;
        float[] timesteps;
        if (sgm)
        {
            timesteps = LinspaceFloat(start, end, steps + 1)[..^1];
        }
        else
        {
            if (Math.Abs(ms.Sigma(end)) <= 1e-5)
            {
                steps += 1;
                appendZero = false;
            }
            timesteps = LinspaceFloat(start, end, steps);
        }
        var sigmas = timesteps.Select(t => ms.Sigma(t)).ToList();
        if (appendZero) sigmas.Add(0);
        return new Sigmas(sigmas);
    }

    // k-diffusion get_sigmas_karras (Karras et al. 2022, eq. 5): interpolate σ^(1/ρ) linearly.
    public static Sigmas Karras(int steps, double sigmaMin, double sigmaMax, double rho = 7.0)
    {
        RequireSteps(steps);
        float[] ramp = LinspaceFloat(0, 1, steps);
        double minInvRho = Math.Pow(sigmaMin, 1 / rho), maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        return new Sigmas(ramp.Select(r => Math.Pow(maxInvRho + r * (minInvRho - maxInvRho), rho)).Append(0));
    }

    // k-diffusion get_sigmas_exponential: evenly spaced in log σ.
    public static Sigmas Exponential(int steps, double sigmaMin, double sigmaMax)
    {
        RequireSteps(steps);
        float[] logs = LinspaceFloat(Math.Log(sigmaMax), Math.Log(sigmaMin), steps);
        return new Sigmas(logs.Select(l => Math.Exp(l)).Append(0));
    }

    // ComfyUI beta_scheduler (Lee et al. 2024, "Beta Sampling is All You Need", arXiv 2407.12173): timesteps at the
    // Beta(α, β) quantiles of 1 − i/steps, rounded half-to-even; consecutive duplicates are dropped.
    public static Sigmas Beta(IModelSampling ms, int steps, double alpha = 0.6, double beta = 0.6)
    {
        RequireSteps(steps);
        IReadOnlyList<float> table = ms.SigmaTable;
        int total = table.Count - 1;
        var sigmas = new List<double>();
        double last = -1;
        for (int i = 0; i < steps; i++)
        {
            double p = 1.0 - i / (double)steps; // numpy.linspace(0, 1, steps, endpoint=False)
            double t = Math.Round(BetaDistribution.Ppf(p, alpha, beta) * total, MidpointRounding.ToEven);
            if (t != last) sigmas.Add(table[(int)t]);
            last = t;
        }
        sigmas.Add(0);
        return new Sigmas(sigmas);
    }

    // ComfyUI linear_quadratic_schedule (from Genmo's Mochi): linear in σ/σ_max for the first half of the steps up to
    // the threshold, quadratic after, scaled by σ_max.
    public static Sigmas LinearQuadratic(IModelSampling ms, int steps, double thresholdNoise = 0.025, int? linearSteps = null)
    {
        RequireSteps(steps);
        float sigmaMax = (float)ms.SigmaMax;
        if (steps == 1) return new Sigmas([sigmaMax * 1f, 0f]);
        int lin = linearSteps ?? steps / 2;
        var schedule = new List<double>(steps + 1);
        for (int i = 0; i < lin; i++) schedule.Add(i * thresholdNoise / lin);
        double stepDiff = lin - thresholdNoise * steps;
        int quadSteps = steps - lin;
        double quadCoef = stepDiff / (lin * (double)quadSteps * quadSteps);
        double linCoef = thresholdNoise / lin - 2 * stepDiff / ((double)quadSteps * quadSteps);
        double constant = quadCoef * lin * lin;
        for (int i = lin; i < steps; i++) schedule.Add(quadCoef * i * i + linCoef * i + constant);
        schedule.Add(1.0);
        // FloatTensor(1 − s) · σ_max in float32
        return new Sigmas(schedule.Select(s => (float)(1.0 - s) * sigmaMax));
    }

    // ComfyUI kl_optimal_scheduler (AUTOMATIC1111 PR 15608): σ = tan(lerp(atan σ_max, atan σ_min, i/(n−1))).
    // With one step ComfyUI divides by zero (NaN); we use σ_max.
    public static Sigmas KlOptimal(int steps, double sigmaMin, double sigmaMax)
    {
        RequireSteps(steps);
        var sigmas = new double[steps + 1];
        for (int i = 0; i < steps; i++)
        {
            float adj = steps == 1 ? 0f : i / (float)(steps - 1);
            sigmas[i] = Math.Tan(adj * Math.Atan(sigmaMin) + (1 - adj) * Math.Atan(sigmaMax));
        }
        return new Sigmas(sigmas);
    }

    /// <summary>torch.linspace in float32 (each value computed and rounded as the CPU kernel does).</summary>
    internal static float[] LinspaceFloat(double start, double end, int steps)
    {
        var result = new float[steps];
        if (steps == 0) return result;
        float s = (float)start, e = (float)end;
        if (steps == 1)
        {
            result[0] = s;
            return result;
        }
        float step = (e - s) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++)
            result[i] = i < halfway ? s + step * i : e - step * (steps - i - 1);
        return result;
    }

    private static void RequireSteps(int steps) =>
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1, nameof(steps));
}
