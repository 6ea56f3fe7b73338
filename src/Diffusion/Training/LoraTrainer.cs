using System.Diagnostics;
using System.Globalization;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Optim;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// Trains a LoRA on a frozen UNet over cached latents and text embeddings (kohya train_network.py with
/// --cache_latents --cache_text_encoder_outputs --network_train_unet_only): per optimizer step,
/// <see cref="LoraTrainingOptions.GradientAccumulationSteps"/> batches each draw integer timesteps uniformly from
/// [0, 1000) and then Gaussian noise from one generator seeded with the run's seed, backpropagate the diffusion loss
/// into the LoRA only, then clip, set the scheduled learning rate and take an AdamW step. Deterministic on the CPU;
/// resumable from <see cref="TrainingCheckpoint"/>s with bit-identical losses.
/// </summary>
/// <remarks>
/// With <see cref="LoraTrainingOptions.TrainTextEncoder"/>, <paramref name="textEncoder"/> (SD1.x's CLIP) gets its own
/// LoRA and AdamW (its learning rate, the same schedule), and each batch's context is its last layer, final-normed
/// (ComfyUI's SD1 default), from the samples' tokens.
/// </remarks>
public sealed class LoraTrainer(UnetModel unet, ModelFamily family, PredictionType prediction, IReadOnlyList<TrainingSample> samples,
    LoraTrainingOptions options, ClipTextModel? textEncoder = null)
{
    private const double SmoothingFactor = 0.9;

    /// <summary>
    /// Runs the training. <paramref name="runIdentity"/> names the base model and dataset (a checkpoint of another
    /// identity is not resumed). <paramref name="checkpointPath"/> (optional) is read at the start and rewritten every
    /// <see cref="LoraTrainingOptions.CheckpointEvery"/> steps. Cancellation is checked between steps and throws,
    /// leaving the last checkpoint in place. The UNet is left exactly as it was. <paramref name="initialLora"/> (kohya
    /// keys, same layout) continues training an existing LoRA instead of starting from down random, up zero.
    /// </summary>
    public TrainedLora Train(string runIdentity, string? checkpointPath = null, Action<TrainingProgress>? onStep = null,
        CancellationToken cancellationToken = default, IReadOnlyDictionary<string, Tensor>? initialLora = null)
    {
        options.Validate();
        if (samples.Count == 0) throw new ArgumentException("the training dataset is empty");
        if (unet.Config.AdmInChannels is not null && samples.Any(s => s.Adm is null))
            throw new ArgumentException("an SDXL UNet needs the ADM vector (pooled text and sizes) of every training sample");
        if (options.TrainTextEncoder && (textEncoder is null || unet.Config.AdmInChannels is not null))
            throw new ArgumentException("text-encoder training needs an SD1.x checkpoint's text encoder");
        if (options.TrainTextEncoder && samples.Any(s => s.Tokens is null))
            throw new ArgumentException("text-encoder training needs the token ids of every training sample");
        string fingerprint = runIdentity + "|" + options.Fingerprint();
        Device device = unet.OutConv.Weight.Value.Device;
        var loss = new DiffusionLoss(new DiffusionNoiseSchedule(), prediction, options.LossFunction, options.LossWeighting);
        var order = new TrainingDataOrder(samples.Select(s => s.BucketKey).ToList(), options.BatchSize, options.Seed);
        var schedule = new LearningRateSchedule(options.LearningRate, options.Steps, options.Schedule, options.WarmupSteps);

        using var network = new LoraNetwork(unet, family, options.Targets, options.Rank, options.EffectiveAlpha, options.Seed);
        if (initialLora is not null) network.LoadKohyaTensors(initialLora);
        using LoraNetwork? teNetwork = options.TrainTextEncoder
            ? LoraNetwork.ForTextEncoder(textEncoder!, options.Rank, options.EffectiveAlpha, unchecked(options.Seed + 1)) : null;
        if (teNetwork is not null && initialLora is not null && initialLora.Keys.Any(k => k.StartsWith(LoraNetwork.TextEncoderPrefix, StringComparison.Ordinal)))
            teNetwork.LoadKohyaTensors(initialLora);
        IReadOnlyList<Tensor> unetParameters = network.Parameters, teParameters = teNetwork?.Parameters ?? [];
        // Checkpoints and clipping see one list: the UNet's parameters, then the text encoder's.
        IReadOnlyList<Tensor> parameters = [.. unetParameters, .. teParameters];
        using var optimizer = new AdamW(unetParameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
        double teRate = options.TextEncoderLearningRate ?? options.LearningRate;
        using AdamW? teOptimizer = teNetwork is null ? null
            : new AdamW(teParameters, teRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
        using var generator = new Generator(options.Seed);
        int step = 0, epoch = 0, batchIndex = 0;
        double ema = 0;
        var losses = new List<double>();

        if (checkpointPath is not null)
        {
            using TrainingCheckpoint? resumed = TrainingCheckpoint.TryLoad(checkpointPath, fingerprint);
            if (resumed is not null)
            {
                using (Autograd.NoGrad())
                    for (int i = 0; i < parameters.Count; i++) parameters[i].Copy_(resumed.Parameters[i]);
                int n = unetParameters.Count;
                optimizer.LoadState(resumed.OptimizerSteps, resumed.ExpAvg.Take(n).ToList(), resumed.ExpAvgSq.Take(n).ToList());
                teOptimizer?.LoadState(resumed.OptimizerSteps, resumed.ExpAvg.Skip(n).ToList(), resumed.ExpAvgSq.Skip(n).ToList());
                generator.SetState(resumed.GeneratorState);
                (step, epoch, batchIndex, ema) = (resumed.Step, resumed.Epoch, resumed.BatchIndex, resumed.SmoothedLossState);
                losses.AddRange(resumed.Losses);
            }
        }

        bool checkpointing = unet.GradientCheckpointing;
        unet.GradientCheckpointing = options.GradientCheckpointing;
        try
        {
            TrainSteps();
        }
        finally
        {
            unet.GradientCheckpointing = checkpointing;
        }
        return new TrainedLora([.. network.KohyaTensors(), .. teNetwork?.KohyaTensors() ?? []], Metadata(), losses, step);

        void TrainSteps()
        {
            IReadOnlyList<int[]> batches = order.Batches(epoch);
            int startStep = step, images = 0;
            var clock = Stopwatch.StartNew();
            while (step < options.Steps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double rate = schedule.RateAt(step);
                optimizer.LearningRate = rate;
                if (teOptimizer is not null) teOptimizer.LearningRate = rate * teRate / options.LearningRate;
                double stepLoss = 0;
                for (int micro = 0; micro < options.GradientAccumulationSteps; micro++)
                {
                    if (batchIndex >= batches.Count)
                    {
                        epoch++;
                        batchIndex = 0;
                        batches = order.Batches(epoch);
                    }
                    int[] batch = batches[batchIndex++];
                    stepLoss += MicroStep(batch, loss, generator, device, options.GradientAccumulationSteps);
                    images += batch.Length;
                }
                if (options.MaxGradNorm > 0) GradientClipping.ClipByGlobalNorm(parameters, options.MaxGradNorm);
                optimizer.Step();
                optimizer.ZeroGrad();
                teOptimizer?.Step();
                teOptimizer?.ZeroGrad();
                step++;
                losses.Add(stepLoss);
                ema = SmoothingFactor * ema + (1 - SmoothingFactor) * stepLoss;

                if (options.CheckpointEvery > 0 && checkpointPath is not null && step % options.CheckpointEvery == 0 && step < options.Steps)
                    new TrainingCheckpoint
                    {
                        Fingerprint = fingerprint, Step = step, Epoch = epoch, BatchIndex = batchIndex, OptimizerSteps = optimizer.StepCount,
                        GeneratorState = generator.GetState(), Losses = losses, SmoothedLossState = ema,
                        Parameters = parameters, ExpAvg = [.. optimizer.ExpAvg, .. teOptimizer?.ExpAvg ?? []],
                        ExpAvgSq = [.. optimizer.ExpAvgSq, .. teOptimizer?.ExpAvgSq ?? []],
                    }.Save(checkpointPath);

                double seconds = clock.Elapsed.TotalSeconds, done = step - startStep;
                onStep?.Invoke(new TrainingProgress(step, options.Steps, epoch + 1, stepLoss, ema / (1 - Math.Pow(SmoothingFactor, step)), rate,
                    seconds > 0 ? images / seconds : 0, TimeSpan.FromSeconds(seconds / done * (options.Steps - step))));
            }
        }
    }

    // One batch forward and backward; returns its loss (already divided by the accumulation count).
    private double MicroStep(int[] batch, DiffusionLoss loss, Generator generator, Device device, int accumulation)
    {
        using var scope = Torch.NewScope();
        Tensor x0 = Torch.Stack(batch.Select(i => samples[i].Latent).ToArray()).To(device);
        bool trainText = options.TrainTextEncoder;
        Tensor? tokens = trainText ? Torch.Stack(batch.Select(i => samples[i].Tokens!).ToArray()) : null;
        Tensor context = trainText ? null! : Torch.Stack(batch.Select(i => samples[i].Context).ToArray()).To(device);
        Tensor? y = unet.Config.AdmInChannels is null ? null : Torch.Stack(batch.Select(i => samples[i].Adm!).ToArray()).To(device);
        int[] timesteps = Torch.RandInt(0, loss.Schedule.Timesteps, [batch.Length], generator).ToArray<long>().Select(t => (int)t).ToArray();
        Tensor noise = Torch.Randn(x0.Shape, generator).To(device);
        Tensor noised = loss.Noised(x0, noise, timesteps);
        Tensor prediction;
        using (options.MixedPrecision == MixedPrecision.Bf16 ? Autocast.Enable(device) : null)
        {
            if (trainText)
                context = textEncoder!.Forward(tokens!.To(textEncoder.Embeddings.TokenEmbedding.Weight.Value.Device), options.TextEncoderLayer).Hidden;
            prediction = unet.Forward(noised, Torch.FromArray(timesteps.Select(t => (float)t).ToArray()), context, y);
        }
        Tensor value = loss.Loss(prediction, loss.Target(x0, noise, timesteps), timesteps) / accumulation;
        value.Backward();
        return value.Item();
    }

    // kohya sd-scripts' ss_* training metadata (the keys tools such as A1111 and Civitai read).
    private Dictionary<string, string> Metadata()
    {
        Tensor latent = samples[0].Latent;
        string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_network_module"] = "networks.lora",
            ["ss_network_dim"] = options.Rank.ToString(CultureInfo.InvariantCulture),
            ["ss_network_alpha"] = Invariant($"{options.EffectiveAlpha}"),
            ["ss_base_model_version"] = family == ModelFamily.SDXLCheckpoint ? "sdxl_base_v1-0" : "sd_v1",
            ["ss_v2"] = "False",
            ["ss_v_parameterization"] = prediction == PredictionType.VPrediction ? "True" : "False",
            ["ss_steps"] = options.Steps.ToString(CultureInfo.InvariantCulture),
            ["ss_max_train_steps"] = options.Steps.ToString(CultureInfo.InvariantCulture),
            ["ss_resolution"] = Invariant($"({latent.Size(2) * 8}, {latent.Size(1) * 8})"),
            ["ss_num_train_images"] = samples.Count.ToString(CultureInfo.InvariantCulture),
            ["ss_batch_size_per_device"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["ss_gradient_accumulation_steps"] = options.GradientAccumulationSteps.ToString(CultureInfo.InvariantCulture),
            ["ss_learning_rate"] = Invariant($"{options.LearningRate}"),
            ["ss_unet_lr"] = Invariant($"{options.LearningRate}"),
            ["ss_lr_scheduler"] = options.Schedule.ToString().ToLowerInvariant(),
            ["ss_lr_warmup_steps"] = options.WarmupSteps.ToString(CultureInfo.InvariantCulture),
            ["ss_optimizer"] = Invariant($"AdamW(weight_decay={options.WeightDecay},betas=({options.Beta1},{options.Beta2}),eps={options.Epsilon})"),
            ["ss_max_grad_norm"] = Invariant($"{options.MaxGradNorm}"),
            ["ss_seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["ss_network_train_unet_only"] = options.TrainTextEncoder ? "False" : "True",
            ["ss_text_encoder_lr"] = options.TrainTextEncoder ? Invariant($"{options.TextEncoderLearningRate ?? options.LearningRate}") : "0",
            ["ss_cache_latents"] = "True",
            ["ss_mixed_precision"] = options.MixedPrecision == MixedPrecision.Bf16 ? "bf16" : "no",
            ["ss_training_comment"] = Invariant($"CharacterGen; targets {options.Targets}, loss {options.LossFunction}/{options.LossWeighting}"),
        };
    }
}
