using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>The sampled latent and the last step's x̂₀ (SamplerCustomAdvanced's output and denoised_output).</summary>
public sealed record SamplingResult(Tensor Samples, Tensor Denoised) : IDisposable
{
    public void Dispose()
    {
        Samples.Dispose();
        Denoised.Dispose();
    }
}

/// <summary>
/// One sampling run with a guider, a sampler and a σ list (ComfyUI CFGGuider.sample → inner_sample → KSAMPLER.sample):
/// latent scaling, inpainting mask, initial noise scaling, the sampler, inverse noise scaling.
/// </summary>
public static class GuidedSampling
{
    /// <param name="noise">Unit noise shaped like the latent (<see cref="Noise.Prepare"/>, or zeros).</param>
    /// <param name="latent">The input latent in VAE scale [B, C, H, W].</param>
    /// <param name="seed">Seeds the ancestral/SDE noise and ddim's inpainting noise.</param>
    /// <param name="denoiseMask">The latent's noise_mask ([B, H, W], [H, W] or [B, 1, H, W], any resolution): 1 where the
    /// image is regenerated, 0 where the input latent is kept.</param>
    /// <returns>The new latent in VAE scale, and the last x̂₀ likewise; both owned by the caller's scope.</returns>
    public static SamplingResult Sample(IGuider guider, IModelSampling modelSampling, LatentFormat latentFormat,
        Sampler sampler, Sigmas sigmas, Tensor noise, Tensor latent, ulong seed, Tensor? denoiseMask = null,
        SamplerCallback? callback = null)
    {
        if (sigmas.Count == 0) return new SamplingResult(latent.Clone(), latent.Clone());

        using var scope = Torch.NewScope();
        noise = noise.To(latent.Device, latent.DType);
        // An empty latent stays zero: EmptyLatentImage is already "process_in" space (ComfyUI inner_sample).
        Tensor latentIn = HasNonZero(latent) ? latentFormat.ProcessIn(latent) : latent;
        Tensor? mask = denoiseMask is null ? null : PrepareMask(denoiseMask, latent.Shape).To(latent.Device, latent.DType);
        Tensor inpaintNoise = mask is not null && sampler.RandomInpaintNoise
            ? Torch.Randn(noise.Shape, unchecked(seed + 1)).To(latent.Device, latent.DType)
            : noise;

        Denoiser denoiser = mask is null ? guider.Predict : (x, sigma) => MaskedPredict(guider, modelSampling, mask, inpaintNoise, latentIn, x, sigma);

        Tensor? lastDenoised = null; // x̂₀ of the latest step, owned here (outside every scope)
        try
        {
            SamplerCallback recording = (step, total, x, denoised) =>
            {
                Tensor copy = denoised.Clone().DetachFromScope();
                lastDenoised?.Dispose();
                lastDenoised = copy;
                callback?.Invoke(step, total, x, denoised);
            };
            var context = new SamplerContext { ModelSampling = modelSampling, Seed = seed, Callback = recording };

            Tensor start = modelSampling.NoiseScaling(sigmas.First, noise, latentIn, modelSampling.IsMaxDenoise(sigmas.First));
            Tensor samples = sampler.Function(denoiser, start, sigmas, context);
            samples = modelSampling.InverseNoiseScaling(sigmas.Last, samples);
            Tensor output = latentFormat.ProcessOut(samples).To(latent.DType).MoveToOuterScope();
            Tensor x0 = lastDenoised is null ? output.Clone() : latentFormat.ProcessOut(lastDenoised).To(latent.DType);
            return new SamplingResult(output, x0.MoveToOuterScope());
        }
        finally
        {
            lastDenoised?.Dispose();
        }
    }

    // ComfyUI KSamplerX0Inpaint: outside the mask the model sees the input latent noised to σ, and x̂₀ is the latent.
    private static Tensor MaskedPredict(IGuider guider, IModelSampling ms, Tensor mask, Tensor noise, Tensor latent,
        Tensor x, double sigma)
    {
        using var scope = Torch.NewScope();
        Tensor keep = 1.0 - mask;
        Tensor noisedLatent = ms.NoiseScaling(sigma, noise, latent);
        Tensor input = x * mask + noisedLatent * keep;
        Tensor output = guider.Predict(input, sigma);
        return (output * mask + latent * keep).MoveToOuterScope();
    }

    /// <summary>
    /// A noise mask resized (bilinear) to the latent's H × W and repeated over channels and batch
    /// (ComfyUI sampler_helpers.prepare_mask → utils.reshape_mask).
    /// </summary>
    public static Tensor PrepareMask(Tensor mask, long[] latentShape)
    {
        using var scope = Torch.NewScope();
        Tensor m = mask.To(DType.Float32);
        m = m.Reshape(-1, 1, m.Size(-2), m.Size(-1));
        m = F.Interpolate(m, latentShape[2], latentShape[3], InterpolationMode.Bilinear);
        if (m.Size(1) < latentShape[1]) m = m.Repeat(1, latentShape[1], 1, 1);
        return RepeatToBatchSize(m, latentShape[0]).MoveToOuterScope();
    }

    // ComfyUI utils.repeat_to_batch_size
    private static Tensor RepeatToBatchSize(Tensor t, long batch)
    {
        long n = t.Size(0);
        if (n > batch) return t.Narrow(0, 0, batch);
        if (n < batch) return t.Repeat((batch + n - 1) / n, 1, 1, 1).Narrow(0, 0, batch);
        return t;
    }

    internal static bool HasNonZero(Tensor t)
    {
        using var scope = Torch.NewScope();
        return t.Ne(0.0).Sum().Item() > 0; // NaN counts as non-zero, as in torch.count_nonzero
    }
}
