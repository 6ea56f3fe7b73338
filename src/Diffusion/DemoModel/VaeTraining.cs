using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>Hyper-parameters of the VAE stage.</summary>
public sealed record VaeTrainingOptions
{
    public int Steps { get; init; } = 600;
    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Weight of the KL term against the per-pixel reconstruction loss (both means).</summary>
    public double KlWeight { get; init; } = 1e-3;

    /// <summary>
    /// Side of the square crops (a multiple of 8, aligned to the latent grid) the VAE trains on: it is convolutional, and
    /// 32² crops cost a quarter of full 64² pictures per step.
    /// </summary>
    public int CropSize { get; init; } = 32;

    /// <summary>log σ² of the posterior at the start (σ ≈ 0.05), so the decoder can read the latent from the first step.</summary>
    public double InitialLogVariance { get; init; } = -6;
}

/// <summary>
/// Trains a KL autoencoder (LDM AutoencoderKL, Kingma &amp; Welling 2014) on drawn scenes: the decoder reconstructs the
/// image from a posterior sample z = μ + σ·ε; loss = L1 + MSE reconstruction + a small KL(q(z|x) ‖ N(0, I)), AdamW with
/// warm-up and cosine decay. No adversarial or perceptual loss: flat-coloured shapes do not need them.
/// </summary>
public static class VaeTraining
{
    public static void Train(AutoencoderKL vae, VaeTrainingOptions options, Func<int, int, Tensor> batchOfImages,
        ulong seed, Action<int, double>? progress = null)
    {
        NarrowPosterior(vae, options.InitialLogVariance);
        Tensor[] parameters = TrainingSteps.Trainable(vae);
        using var generator = new Generator(seed);
        using var optimizer = new AdamW(parameters, options.LearningRate, beta2: 0.99, weightDecay: 0);
        int warmup = Math.Max(1, options.Steps / 20);
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = Torch.NewScope();
            optimizer.LearningRate = TrainingSteps.WarmupCosine(step, options.Steps, options.LearningRate, warmup);
            Tensor images = batchOfImages(step, options.BatchSize);
            Tensor[] moments = vae.QuantConv!.Forward(vae.Encoder.Forward(images)).Chunk(2, 1);
            Tensor mean = moments[0], logVar = moments[1].Clamp(-30, 20);
            Tensor z = mean + (logVar * 0.5).Exp() * Torch.Randn(mean.Shape, generator);
            Tensor reconstruction = vae.Decoder.Forward(vae.PostQuantConv!.Forward(z));
            Tensor error = reconstruction - images;
            Tensor kl = (mean.Square() + logVar.Exp() - 1 - logVar).Mean() * 0.5;
            Tensor loss = error.Abs().Mean() + error.Square().Mean() + kl * options.KlWeight;
            optimizer.ZeroGrad();
            loss.Backward();
            TrainingSteps.ClipGradNorm(parameters, 1.0);
            optimizer.Step();
            progress?.Invoke(step, loss.Item());
        }
        optimizer.ZeroGrad();
        TrainingSteps.Freeze(vae);
    }

    // A random quant_conv gives σ as large as μ, and a decoder that cannot read z learns only the mean picture. Start every
    // log σ² at a constant instead (weights 0, bias given); training widens it as far as the KL term asks.
    private static void NarrowPosterior(AutoencoderKL vae, double logVariance)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        int c = vae.Config.EmbedDim;
        vae.QuantConv!.Weight.Value.Narrow(0, c, c).Fill_(0);
        vae.QuantConv!.Bias!.Value.Narrow(0, c, c).Fill_(logVariance);
    }

    /// <summary>
    /// Rewrites quant_conv and post_quant_conv so the posterior mean becomes k·(μ − m) (m the per-channel mean, k chosen
    /// so that the latent times SD's 0.18215 has unit variance) while decoding stays exactly the same. Diffusion then sees
    /// latents on the scale SD1.5's sampler and VAEDecode assume. Returns (m, k).
    /// </summary>
    public static (float[] Mean, double Scale) NormalizeLatents(AutoencoderKL vae, Tensor means, double latentScale = 0.18215)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        int c = (int)means.Size(1);
        Tensor channelMean = means.Mean([0, 2, 3], keepDim: false);
        double std = Math.Sqrt((means - channelMean.Reshape(1, c, 1, 1)).Square().Mean().Item());
        double k = 1 / (latentScale * std);

        // quant_conv: rows [0, c) give μ, rows [c, 2c) give log σ²; σ scales by k as well.
        Tensor qw = vae.QuantConv!.Weight.Value, qb = vae.QuantConv!.Bias!.Value;
        qw.Narrow(0, 0, c).Mul_(k);
        qb.Narrow(0, 0, c).Copy_((qb.Narrow(0, 0, c) - channelMean) * k);
        qb.Narrow(0, c, c).Add_(2 * Math.Log(k));

        // post_quant_conv(z') must equal post_quant_conv(z'/k + m): W' = W/k, b' = b + W·m.
        Tensor pw = vae.PostQuantConv!.Weight.Value, pb = vae.PostQuantConv!.Bias!.Value;
        pb.Add_(F.Linear(channelMean.Unsqueeze(0), pw.Reshape(pw.Size(0), c)).Squeeze(0));
        pw.Mul_(1 / k);
        return (channelMean.ToArray<float>(), k);
    }
}
