using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

// Euler, Heun and DPM-2 families (k-diffusion sampling.py; Karras et al. 2022, "Elucidating the Design Space of
// Diffusion-Based Generative Models", algorithm 2), with s_churn = 0, eta = 1 and s_noise = 1 as ComfyUI calls them.
public static partial class Samplers
{
    // k-diffusion sample_euler
    public static Tensor Euler(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        using var x = new Carry(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            x.Set(x.Value.Add(ToD(x.Value, sigma, denoised), next - sigma));
        }
        return x.Take();
    }

    // k-diffusion sample_euler_ancestral (and sample_euler_ancestral_RF for flow models)
    public static Tensor EulerAncestral(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        bool flow = ctx.ModelSampling.Parameterization.IsFlow;
        using var x = new Carry(input);
        using INoiseSampler noise = ctx.CreateAncestralNoise(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            if (flow)
            {
                x.Set(next == 0 ? denoised : FlowAncestralStep(x.Value, denoised, sigma, next, noise));
                continue;
            }
            var (down, up) = AncestralStep(sigma, next);
            if (down == 0)
            {
                x.Set(denoised);
            }
            else
            {
                Tensor stepped = x.Value.Add(ToD(x.Value, sigma, denoised), down - sigma);
                x.Set(stepped.Add(noise.Sample(sigma, next), up));
            }
        }
        return x.Take();
    }

    // k-diffusion sample_heun: Heun's 2nd-order method, plain Euler for the last step to σ = 0
    public static Tensor Heun(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        using var x = new Carry(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1], dt = next - sigma;
            Tensor denoised = model(x.Value, sigma);
            Tensor d = ToD(x.Value, sigma, denoised);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            if (next == 0)
            {
                x.Set(x.Value.Add(d, dt));
                continue;
            }
            Tensor x2 = x.Value.Add(d, dt);
            Tensor d2 = ToD(x2, next, model(x2, next));
            x.Set(x.Value.Add((d + d2) / 2, dt));
        }
        return x.Take();
    }

    // k-diffusion sample_dpm_2: a DPM-Solver-2 step through the log-midpoint σ
    public static Tensor Dpm2(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        using var x = new Carry(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            Tensor d = ToD(x.Value, sigma, denoised);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            x.Set(next == 0 ? x.Value.Add(d, next - sigma) : Dpm2Step(model, x.Value, d, sigma, next));
        }
        return x.Take();
    }

    // k-diffusion sample_dpm_2_ancestral: DPM-2 down to σ_down, then fresh noise up to σ_next
    public static Tensor Dpm2Ancestral(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        RequireNotFlow(ctx, "dpm_2_ancestral");
        using var x = new Carry(input);
        using INoiseSampler noise = ctx.CreateAncestralNoise(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            var (down, up) = AncestralStep(sigma, next);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            Tensor d = ToD(x.Value, sigma, denoised);
            if (down == 0)
            {
                x.Set(x.Value.Add(d, down - sigma));
                continue;
            }
            Tensor stepped = Dpm2Step(model, x.Value, d, sigma, down);
            x.Set(stepped.Add(noise.Sample(sigma, next), up));
        }
        return x.Take();
    }

    private static Tensor Dpm2Step(Denoiser model, Tensor x, Tensor d, double sigma, double target)
    {
        double mid = Math.Exp(Lerp(Math.Log(sigma), Math.Log(target), 0.5));
        Tensor x2 = x.Add(d, mid - sigma);
        Tensor d2 = ToD(x2, mid, model(x2, mid));
        return x.Add(d2, target - sigma);
    }

    // k-diffusion sample_euler_ancestral_RF with eta = 1: step to σ_down along the flow, then re-noise to σ_next
    private static Tensor FlowAncestralStep(Tensor x, Tensor denoised, double sigma, double next, INoiseSampler noise)
    {
        double down = next * (next / sigma);
        double alphaNext = 1 - next, alphaDown = 1 - down;
        double renoise = Math.Sqrt(next * next - down * down * alphaNext * alphaNext / (alphaDown * alphaDown));
        double ratio = down / sigma;
        Tensor stepped = (x * ratio).Add(denoised, 1 - ratio);
        return (stepped * (alphaNext / alphaDown)).Add(noise.Sample(sigma, next), renoise);
    }

    /// <summary>k-diffusion to_d: the probability-flow ODE derivative dx/dσ = (x − x̂₀)/σ.</summary>
    internal static Tensor ToD(Tensor x, double sigma, Tensor denoised) => (x - denoised) / sigma;

    /// <summary>
    /// k-diffusion get_ancestral_step: the σ to step down to deterministically and the fresh noise to add so that the
    /// total variance reaches σ_to² (eta scales the noise; 0 makes the step deterministic).
    /// </summary>
    public static (double Down, double Up) AncestralStep(double sigmaFrom, double sigmaTo, double eta = 1.0)
    {
        if (eta == 0) return (sigmaTo, 0);
        double up = Math.Min(sigmaTo,
            eta * Math.Sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom)));
        double down = Math.Sqrt(sigmaTo * sigmaTo - up * up);
        return (down, up);
    }

    private static double Lerp(double a, double b, double w) => a + w * (b - a);

    /// <summary>eˣ − 1 without cancellation near 0 (Kahan's trick; .NET's double.ExpM1 is exp(x) − 1).</summary>
    internal static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        if (um1 == -1.0) return -1.0;
        if (double.IsPositiveInfinity(u)) return u;
        return um1 * x / Math.Log(u);
    }

    private static void RequireNotFlow(SamplerContext ctx, string name)
    {
        if (ctx.ModelSampling.Parameterization.IsFlow)
            throw new NotSupportedException($"{name} has no flow-model (CONST) variant here yet");
    }
}
