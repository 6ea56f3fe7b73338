using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>The KSampler / KSamplerAdvanced inputs that are not the model, the conditionings or the latent.</summary>
public sealed record KSamplerSettings
{
    public ulong Seed { get; init; }
    public int Steps { get; init; } = 20;
    public string SamplerName { get; init; } = "euler";
    public string SchedulerName { get; init; } = "simple";
    public double Denoise { get; init; } = 1.0;

    /// <summary>KSamplerAdvanced add_noise; false samples from zero noise.</summary>
    public bool AddNoise { get; init; } = true;

    /// <summary>KSamplerAdvanced start_at_step (null: from the first step).</summary>
    public int? StartStep { get; init; }

    /// <summary>KSamplerAdvanced end_at_step (null: to the last step).</summary>
    public int? EndStep { get; init; }

    /// <summary>KSamplerAdvanced return_with_leftover_noise: when stopping early, keep the last σ instead of ending at 0.</summary>
    public bool ReturnWithLeftoverNoise { get; init; }
}

/// <summary>
/// The KSampler and KSamplerAdvanced nodes as a library call (ComfyUI nodes.common_ksampler → comfy.sample.sample →
/// KSampler.sample): schedule, initial noise, step window, then <see cref="GuidedSampling.Sample"/>.
/// </summary>
public static class KSampler
{
    /// <param name="guider">Usually a <see cref="CfgGuider{TCond}"/> (KSampler's positive, negative and cfg).</param>
    /// <param name="latent">LATENT["samples"] in VAE scale.</param>
    /// <param name="noiseMask">LATENT["noise_mask"], if any.</param>
    /// <param name="batchIndex">LATENT["batch_index"], if any.</param>
    /// <returns>The new LATENT["samples"], owned by the caller's scope.</returns>
    public static Tensor Sample(IGuider guider, IModelSampling modelSampling, LatentFormat latentFormat, Tensor latent,
        KSamplerSettings settings, Tensor? noiseMask = null, IReadOnlyList<long>? batchIndex = null,
        SamplerCallback? callback = null)
    {
        Sampler sampler = Samplers.Get(settings.SamplerName);
        Sigmas? sigmas = CalculateSigmas(modelSampling, settings);
        using var scope = Torch.NewScope();
        latent = FixEmptyLatentChannels(latent, latentFormat);
        if (sigmas is null) return latent.Clone().MoveToOuterScope();

        Tensor noise = settings.AddNoise
            ? Noise.Prepare(latent.Shape, settings.Seed, batchIndex)
            : Noise.Disabled(latent.Shape);
        SamplingResult result = GuidedSampling.Sample(guider, modelSampling, latentFormat, sampler, sigmas, noise, latent,
            settings.Seed, noiseMask, callback);
        result.Denoised.Dispose();
        return result.Samples.MoveToOuterScope();
    }

    /// <summary>
    /// The σ list KSampler / KSamplerAdvanced sample with, or null when the step window is empty and the latent is
    /// returned unchanged.
    /// </summary>
    public static Sigmas? CalculateSigmas(IModelSampling modelSampling, KSamplerSettings settings)
    {
        Sigmas sigmas = Schedulers.ForKSampler(modelSampling, settings.SchedulerName, settings.SamplerName, settings.Steps,
            settings.Denoise);
        return Schedulers.ApplyStepWindow(sigmas, settings.StartStep, settings.EndStep,
            forceFullDenoise: !settings.ReturnWithLeftoverNoise);
    }

    // ComfyUI sample.fix_empty_latent_channels: an all-zero latent with another channel count (EmptyLatentImage for
    // a 16-channel model) is widened to the model's channels.
    private static Tensor FixEmptyLatentChannels(Tensor latent, LatentFormat format)
    {
        if (latent.Size(1) == format.Channels || GuidedSampling.HasNonZero(latent)) return latent;
        long[] shape = latent.Shape;
        shape[1] = format.Channels;
        return Torch.Zeros(shape, latent.DType, latent.Device);
    }
}
