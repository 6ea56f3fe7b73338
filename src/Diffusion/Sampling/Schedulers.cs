namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// Scheduler names and the σ lists the KSampler, KSamplerAdvanced and BasicScheduler nodes compute from them
/// (ComfyUI comfy/samplers.py calculate_sigmas, KSampler.set_steps / sample, nodes_custom_sampler BasicScheduler).
/// </summary>
public static class Schedulers
{
    /// <summary>ComfyUI's SCHEDULER_NAMES, in its order (the COMBO options).</summary>
    public static IReadOnlyList<string> AllNames { get; } =
        ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal"];

    /// <summary>The schedulers this library computes (all of ComfyUI's).</summary>
    public static IReadOnlyList<string> ImplementedNames => AllNames;

    public static bool IsImplemented(string name) => AllNames.Contains(name);

    /// <summary>The schedule <paramref name="name"/> for <paramref name="steps"/> steps (ComfyUI calculate_sigmas).</summary>
    public static Sigmas Calculate(string name, IModelSampling ms, int steps) => name switch
    {
        "simple" => Schedules.Simple(ms, steps),
        "sgm_uniform" => Schedules.Normal(ms, steps, sgm: true),
        "karras" => Schedules.Karras(steps, ms.SigmaMin, ms.SigmaMax),
        "exponential" => Schedules.Exponential(steps, ms.SigmaMin, ms.SigmaMax),
        "ddim_uniform" => Schedules.DdimUniform(ms, steps),
        "beta" => Schedules.Beta(ms, steps),
        "normal" => Schedules.Normal(ms, steps),
        "linear_quadratic" => Schedules.LinearQuadratic(ms, steps),
        "kl_optimal" => Schedules.KlOptimal(steps, ms.SigmaMin, ms.SigmaMax),
        _ => throw new ArgumentException($"unknown scheduler '{name}'", nameof(name)),
    };

    /// <summary>
    /// The KSampler's σ list: <paramref name="steps"/> real steps; with denoise &lt; 1 the schedule is computed for
    /// int(steps/denoise) steps and only its last steps + 1 values are kept (img2img starts at a lower σ); denoise ≤ 0
    /// gives no sigmas (the latent comes back unchanged). Samplers in <see cref="Samplers.DiscardPenultimateSigma"/>
    /// get a schedule for one more step with the second to last σ removed.
    /// </summary>
    public static Sigmas ForKSampler(IModelSampling ms, string scheduler, string sampler, int steps, double denoise = 1.0)
    {
        if (denoise > 0.9999) return ForSampler(ms, scheduler, sampler, steps);
        if (denoise <= 0.0) return Sigmas.Empty;
        int total = (int)(steps / denoise);
        Sigmas sigmas = ForSampler(ms, scheduler, sampler, total);
        return sigmas.Slice(-(steps + 1), sigmas.Count);
    }

    /// <summary>BasicScheduler: as the KSampler's (denoise &lt; 1 slicing included) but never drops a σ.</summary>
    public static Sigmas ForBasicScheduler(IModelSampling ms, string scheduler, int steps, double denoise = 1.0)
    {
        int total = steps;
        if (denoise < 1.0)
        {
            if (denoise <= 0.0) return Sigmas.Empty;
            total = (int)(steps / denoise);
        }
        Sigmas sigmas = Calculate(scheduler, ms, total);
        return sigmas.Slice(-(steps + 1), sigmas.Count);
    }

    /// <summary>
    /// KSamplerAdvanced's step window (ComfyUI KSampler.sample): stop after <paramref name="endStep"/> (setting the last σ
    /// to 0 when <paramref name="forceFullDenoise"/>), then start at <paramref name="startStep"/>. Null means the window
    /// is empty and the input latent is returned unchanged.
    /// </summary>
    public static Sigmas? ApplyStepWindow(Sigmas sigmas, int? startStep, int? endStep, bool forceFullDenoise)
    {
        if (endStep is int end && end < sigmas.Count - 1)
        {
            sigmas = sigmas.Slice(0, Math.Max(end + 1, 0));
            if (forceFullDenoise && sigmas.Count > 0) sigmas = sigmas.WithLast(0);
        }
        if (startStep is int start)
        {
            if (start < sigmas.Count - 1) sigmas = sigmas.Slice(start, sigmas.Count);
            else return null;
        }
        return sigmas;
    }

    private static Sigmas ForSampler(IModelSampling ms, string scheduler, string sampler, int steps)
    {
        bool discard = Samplers.DiscardPenultimateSigma.Contains(sampler);
        Sigmas sigmas = Calculate(scheduler, ms, discard ? steps + 1 : steps);
        return discard ? sigmas.WithoutPenultimate() : sigmas;
    }
}
