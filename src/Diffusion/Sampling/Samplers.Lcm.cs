using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

public static partial class Samplers
{
    // k-diffusion sample_lcm (Luo et al. 2023, latent consistency models): jump to x̂₀, then re-noise to σ_next
    // with the model's own noise scaling.
    public static Tensor Lcm(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        using var x = new Carry(input);
        using INoiseSampler noise = ctx.CreateAncestralNoise(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            x.Set(next > 0 ? ctx.ModelSampling.NoiseScaling(next, noise.Sample(sigma, next), denoised) : denoised);
        }
        return x.Take();
    }

    // k-diffusion sample_ddpm (generic_step_sampler + DDPMSampler_step): the DDPM ancestral step (Ho et al. 2020,
    // eq. 11) in variance-preserving scaling, x_vp = x/√(1+σ²).
    public static Tensor Ddpm(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        using var x = new Carry(input);
        using INoiseSampler noise = ctx.CreateAncestralNoise(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            Tensor eps = (x.Value - denoised) / sigma;
            Tensor xVp = x.Value / Math.Sqrt(1.0 + sigma * sigma);
            double alphaCumprod = 1 / (sigma * sigma + 1), alphaCumprodPrev = 1 / (next * next + 1);
            double alpha = alphaCumprod / alphaCumprodPrev;
            Tensor mu = xVp.Add(eps, -(1 - alpha) / Math.Sqrt(1 - alphaCumprod)) * Math.Sqrt(1 / alpha);
            if (next > 0)
            {
                double variance = (1 - alpha) * (1 - alphaCumprodPrev) / (1 - alphaCumprod);
                mu = mu.Add(noise.Sample(sigma, next), Math.Sqrt(variance));
                mu = mu * Math.Sqrt(1.0 + next * next);
            }
            x.Set(mu);
        }
        return x.Take();
    }
}
