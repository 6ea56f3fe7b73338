using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>Hyper-parameters of the UNet stage.</summary>
public sealed record UnetTrainingOptions
{
    public int Steps { get; init; } = 3000;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>How often the caption is replaced by the empty prompt, so classifier-free guidance has an unconditional model.</summary>
    public double CaptionDropout { get; init; } = 0.1;

    /// <summary>γ of the min-SNR loss weighting; 0 trains with the plain ε-MSE.</summary>
    public double MinSnrGamma { get; init; } = 5;

    /// <summary>Decay of the weight average that is saved.</summary>
    public double AverageDecay { get; init; } = 0.995;
}

/// <summary>
/// Trains an LDM UNet for ε-prediction on cached latents and text embeddings (DDPM objective, uniform timesteps, ε-MSE
/// with min-SNR-γ weights, which converge faster than the plain ε-MSE of kohya's sd-scripts; bench/RESULTS.md has the
/// measured runs), with caption dropout for CFG and an exponential average of the weights.
/// </summary>
public static class UnetTraining
{
    /// <param name="latents">[N, 4, h, w] clean latents, already multiplied by the latent format's scale.</param>
    /// <param name="captions">[K, 77, D] text embeddings; row 0 is the empty prompt.</param>
    /// <param name="captionOf">for each latent, its row in <paramref name="captions"/>.</param>
    public static void Train(UnetModel unet, UnetModel average, UnetTrainingOptions options, Tensor latents, Tensor captions,
        int[] captionOf, ulong seed, Action<int, double>? progress = null)
    {
        Tensor[] parameters = TrainingSteps.Trainable(unet);
        var noising = new DiffusionNoising();
        var random = new DemoRandom(seed);
        using var generator = new Generator(seed);
        using var optimizer = new AdamW(parameters, options.LearningRate, beta2: 0.99, weightDecay: 0.01);
        var ema = new WeightAverage(unet, average);
        int warmup = Math.Max(1, options.Steps / 20), n = (int)latents.Size(0);
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = Torch.NewScope();
            optimizer.LearningRate = TrainingSteps.WarmupCosine(step, options.Steps, options.LearningRate, warmup);
            int[] rows = Enumerable.Range(0, options.BatchSize).Select(_ => random.Next(n)).ToArray();
            long[] textRows = rows.Select(r => random.NextDouble() < options.CaptionDropout ? 0L : captionOf[r]).ToArray();
            int[] timesteps = noising.SampleTimesteps(random, options.BatchSize);
            Tensor x0 = latents.IndexSelect(0, Torch.FromArray(rows.Select(r => (long)r).ToArray()));
            Tensor context = captions.IndexSelect(0, Torch.FromArray(textRows));
            Tensor noise = Torch.Randn(x0.Shape, generator);
            Tensor xt = noising.AddNoise(x0, noise, timesteps);
            Tensor prediction = unet.Forward(xt, Torch.FromArray(timesteps.Select(t => (float)t).ToArray()), context);
            Tensor loss = options.MinSnrGamma > 0
                ? ((prediction - noise).Square() * noising.MinSnrWeights(timesteps, options.MinSnrGamma, x0.Dim)).Mean()
                : F.MseLoss(prediction, noise);
            optimizer.ZeroGrad();
            loss.Backward();
            TrainingSteps.ClipGradNorm(parameters, 1.0);
            optimizer.Step();
            // Early on the average would mostly remember the random start: warm its decay up (as diffusers' EMA does).
            ema.Update(Math.Min(options.AverageDecay, (1.0 + step) / (10.0 + step)));
            progress?.Invoke(step, loss.Item());
        }
        optimizer.ZeroGrad();
        TrainingSteps.Freeze(unet);
    }
}
