using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

// DPM-Solver++ family (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
// Models"), as k-diffusion / ComfyUI implement it: t = −ln σ, or λ = the half log-SNR for the SDE variants.
public static partial class Samplers
{
    // k-diffusion sample_dpmpp_2m: multistep 2nd order; first and last steps are 1st order
    public static Tensor DpmPP2M(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        using var x = new Carry(input);
        using var oldDenoised = new Carry();
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            double t = -Math.Log(sigma), tNext = -Math.Log(next), h = tNext - t;
            Tensor d = denoised;
            if (oldDenoised.HasValue && next != 0)
            {
                double hLast = t + Math.Log(sigmas[i - 1]);
                double r = hLast / h;
                d = (denoised * (1 + 1 / (2 * r))).Add(oldDenoised.Value, -1 / (2 * r));
            }
            x.Set((x.Value * (next / sigma)).Add(d, -Expm1(-h)));
            oldDenoised.Set(denoised);
        }
        return x.Take();
    }

    // k-diffusion sample_dpmpp_2s_ancestral: single-step 2nd order down to σ_down, then ancestral noise
    public static Tensor DpmPP2SAncestral(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        RequireNotFlow(ctx, "dpmpp_2s_ancestral");
        using var x = new Carry(input);
        using INoiseSampler noise = ctx.CreateAncestralNoise(input);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            var (down, up) = AncestralStep(sigma, next);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            Tensor stepped;
            if (down == 0)
            {
                stepped = x.Value.Add(ToD(x.Value, sigma, denoised), down - sigma);
            }
            else
            {
                double t = -Math.Log(sigma), tNext = -Math.Log(down), h = tNext - t, s = t + 0.5 * h;
                double sigmaS = Math.Exp(-s);
                Tensor x2 = (x.Value * (sigmaS / sigma)).Add(denoised, -Expm1(-0.5 * h));
                Tensor denoised2 = model(x2, sigmaS);
                stepped = (x.Value * (down / sigma)).Add(denoised2, -Expm1(-h));
            }
            if (next > 0) stepped = stepped.Add(noise.Sample(sigma, next), up);
            x.Set(stepped);
        }
        return x.Take();
    }

    // k-diffusion sample_dpmpp_sde (eta = 1, r = 1/2): two model calls per step, Brownian noise at the midpoint and end
    public static Tensor DpmPPSde(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        const double Eta = 1.0, R = 0.5;
        if (sigmas.Count <= 1) return input.Clone();
        Parameterization p = ctx.ModelSampling.Parameterization;
        using var x = new Carry(input);
        using INoiseSampler noise = ctx.CreateBrownianNoise(input, sigmas);
        sigmas = OffsetFirstSigmaForSnr(sigmas, ctx.ModelSampling);
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            if (next == 0)
            {
                x.Set(denoised);
                continue;
            }
            double lambdaS = p.HalfLogSnr(sigma), lambdaT = p.HalfLogSnr(next);
            double h = lambdaT - lambdaS, lambdaS1 = lambdaS + R * h, fac = 1 / (2 * R);
            double sigmaS1 = p.SigmaFromHalfLogSnr(lambdaS1);
            double alphaS = sigma * Math.Exp(lambdaS), alphaS1 = sigmaS1 * Math.Exp(lambdaS1), alphaT = next * Math.Exp(lambdaT);

            // Step 1: to the midpoint λ, with noise
            var (sd, su) = AncestralStep(Math.Exp(-lambdaS), Math.Exp(-lambdaS1), Eta);
            double hStep = -Math.Log(sd) - lambdaS;
            Tensor x2 = (x.Value * (alphaS1 / alphaS * Math.Exp(-hStep))).Add(denoised, -alphaS1 * Expm1(-hStep));
            x2 = x2.Add(noise.Sample(sigma, sigmaS1), alphaS1 * su);
            Tensor denoised2 = model(x2, sigmaS1);

            // Step 2: the full step with the midpoint-corrected x̂₀
            (sd, su) = AncestralStep(Math.Exp(-lambdaS), Math.Exp(-lambdaT), Eta);
            hStep = -Math.Log(sd) - lambdaS;
            Tensor denoisedD = (denoised * (1 - fac)).Add(denoised2, fac);
            Tensor stepped = (x.Value * (alphaT / alphaS * Math.Exp(-hStep))).Add(denoisedD, -alphaT * Expm1(-hStep));
            x.Set(stepped.Add(noise.Sample(sigma, next), alphaT * su));
        }
        return x.Take();
    }

    // k-diffusion sample_dpmpp_2m_sde, solver_type midpoint (eta = 1)
    public static Tensor DpmPP2MSde(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx) =>
        MultistepSde(model, input, sigmas, ctx, order: 2, heun: false);

    // k-diffusion sample_dpmpp_2m_sde_heun (solver_type heun)
    public static Tensor DpmPP2MSdeHeun(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx) =>
        MultistepSde(model, input, sigmas, ctx, order: 2, heun: true);

    // k-diffusion sample_dpmpp_3m_sde (eta = 1)
    public static Tensor DpmPP3MSde(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx) =>
        MultistepSde(model, input, sigmas, ctx, order: 3, heun: false);

    private static Tensor MultistepSde(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx, int order, bool heun)
    {
        const double Eta = 1.0;
        if (sigmas.Count <= 1) return input.Clone();
        Parameterization p = ctx.ModelSampling.Parameterization;
        using var x = new Carry(input);
        using var history = new TensorHistory(order - 1); // previous x̂₀, oldest first
        using INoiseSampler noise = ctx.CreateBrownianNoise(input, sigmas);
        sigmas = OffsetFirstSigmaForSnr(sigmas, ctx.ModelSampling);
        double? h1 = null, h2 = null; // the previous step sizes in λ
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            Tensor denoised = model(x.Value, sigma);
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            double? h = null;
            if (next == 0)
            {
                x.Set(denoised);
            }
            else
            {
                double lambdaS = p.HalfLogSnr(sigma), lambdaT = p.HalfLogSnr(next);
                double step = lambdaT - lambdaS, hEta = step * (Eta + 1);
                h = step;
                double alphaT = next * Math.Exp(lambdaT);
                double phi1 = -Expm1(-hEta);
                Tensor stepped = (x.Value * (next / sigma * Math.Exp(-step * Eta))).Add(denoised, alphaT * phi1);
                if (order == 3 && h2 is double hb && h1 is double ha && history.Count == 2)
                {
                    // DPM-Solver++(3M) SDE
                    double r0 = ha / step, r1 = hb / step;
                    Tensor d10 = (denoised - history[-1]) / r0;
                    Tensor d11 = (history[-1] - history[-2]) / r1;
                    Tensor d1 = d10.Add(d10 - d11, r0 / (r0 + r1));
                    Tensor d2 = (d10 - d11) / (r0 + r1);
                    double phi2 = Expm1(-hEta) / hEta + 1;
                    double phi3 = phi2 / hEta - 0.5;
                    stepped = stepped.Add(d1, alphaT * phi2).Add(d2, -alphaT * phi3);
                }
                else if (h1 is double hPrev && history.Count >= 1)
                {
                    double r = hPrev / step;
                    Tensor diff = denoised - history[-1];
                    double coefficient = order == 3
                        ? alphaT * (Expm1(-hEta) / hEta + 1) / r // 3M's second-order start
                        : heun
                            ? alphaT * (phi1 / -hEta + 1) / r
                            : 0.5 * alphaT * phi1 / r;
                    stepped = stepped.Add(diff, coefficient);
                }
                double noiseScale = next * Math.Sqrt(-Expm1(-2 * step * Eta));
                x.Set(stepped.Add(noise.Sample(sigma, next), noiseScale));
            }
            history.Push(denoised.Alias()); // its own handle: x may carry denoised itself
            h2 = h1;
            h1 = h;
        }
        return x.Take();
    }

    // k-diffusion offset_first_sigma_for_snr: a flow model's σ = 1 has infinite −λ; start just below it
    private static Sigmas OffsetFirstSigmaForSnr(Sigmas sigmas, IModelSampling ms)
    {
        if (sigmas.Count <= 1 || !ms.Parameterization.IsFlow || sigmas[0] < 1) return sigmas;
        double[] values = sigmas.ToArray();
        values[0] = ms.PercentToSigma(1e-4);
        return new Sigmas(values);
    }
}
