using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Training;

/// <summary>LoRA training on a tiny random-weight SD1.5 checkpoint: learning, determinism, resume, leaks, kohya output.</summary>
public sealed class LoraTrainerTests() : TinyCheckpointFixture(CheckpointParts.Unet | CheckpointParts.Clip)
{
    internal static List<TrainingSample> Samples(int count, ulong seed, long contextDim = 32, long admDim = 0)
    {
        using var scope = Torch.NewScope();
        using var g = new Generator(seed);
        return Enumerable.Range(0, count).Select(_ => new TrainingSample(Torch.Randn([4, 8, 8], g), Torch.Randn([77, contextDim], g),
            admDim > 0 ? Torch.Randn([admDim], g) : null)).ToList();
    }

    private TrainedLora Train(IReadOnlyList<TrainingSample> samples, LoraTrainingOptions options, string? checkpoint = null,
        Action<TrainingProgress>? onStep = null, CancellationToken ct = default) =>
        new LoraTrainer(Checkpoint.Unet!, Checkpoint.Family, Checkpoint.Prediction, samples, options).Train("tiny|test-data", checkpoint, onStep, ct);

    [Test]
    public void TrainedLoraLoadsThroughTheLoraLoaderPathAndLowersTheLossItWasTrainedOn()
    {
        var samples = Samples(2, 11);
        try
        {
            var weights = Checkpoint.Unet!.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Value.ToArray<float>());
            var options = new LoraTrainingOptions { Steps = 30, LearningRate = 3e-3, Rank = 4, Targets = LoraTargets.All, Seed = 1 };
            double before = EvaluationLoss(samples);
            string path = Path.Combine(Folder, "learned.safetensors");
            long baseline = Tensor.LiveCount;
            using (TrainedLora lora = Train(samples, options)) lora.Save(path);
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline), "no tensor of the run survives it");
            foreach (var (name, values) in weights)
                Assert.That(Checkpoint.Unet!.NamedParameters().First(p => p.Key == name).Value.Value.ToArray<float>(), Is.EqualTo(values), $"{name} is frozen");

            using LoraFile file = LoraFile.Load(path);
            Assert.That(file.Format, Is.EqualTo(LoraFormat.Kohya));
            using LoraPatches patches = LoraMapper.Map(file, "learned", Checkpoint.Unet, Checkpoint.Clip, "tiny");
            Assert.That(patches.Unmatched, Is.Empty, "every key addresses a weight");
            Assert.That(patches.Patches, Is.Not.Empty);
            try
            {
                Checkpoint.UnetPatcher.Apply([new WeightedLora(patches, 1.0)]);
                double after = EvaluationLoss(samples);
                Assert.That(after, Is.LessThan(before * 0.9), $"loss on the training data {before} → {after}");
            }
            finally
            {
                Checkpoint.UnetPatcher.Apply([]);
            }
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public void TheSameSeedGivesTheSameLossesAndWeightsAnotherSeedDoesNot()
    {
        var samples = Samples(3, 12);
        try
        {
            var options = new LoraTrainingOptions { Steps = 4, BatchSize = 2, GradientAccumulationSteps = 2, MaxGradNorm = 1.0, Seed = 5 };
            using TrainedLora a = Train(samples, options), b = Train(samples, options), c = Train(samples, options with { Seed = 6 });
            Assert.That(b.Losses, Is.EqualTo(a.Losses));
            for (int i = 0; i < a.Tensors.Count; i++) Assert.That(b.Tensors[i].Value.ToArray<float>(), Is.EqualTo(a.Tensors[i].Value.ToArray<float>()));
            Assert.That(c.Losses, Is.Not.EqualTo(a.Losses));
            Assert.That(a.Losses, Has.Count.EqualTo(4));
            Assert.That(a.Losses, Has.All.GreaterThan(0).And.All.Not.NaN);
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public void ACancelledRunResumesFromItsLastCheckpointWithBitIdenticalLosses()
    {
        var samples = Samples(3, 13);
        try
        {
            var options = new LoraTrainingOptions
            {
                Steps = 7, BatchSize = 2, CheckpointEvery = 2, Seed = 9, Schedule = Tensors.Optim.LearningRateDecay.Cosine, WarmupSteps = 2,
            };
            using TrainedLora uninterrupted = Train(samples, options);

            string checkpoint = Path.Combine(Folder, "resume.ckpt.safetensors");
            using var cts = new CancellationTokenSource();
            var seen = new List<TrainingProgress>();
            long baseline = Tensor.LiveCount;
            Assert.Throws<OperationCanceledException>(() => Train(samples, options, checkpoint, p =>
            {
                seen.Add(p);
                if (p.Step == 5) cts.Cancel();
            }, cts.Token).Dispose());
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline), "a cancelled run frees its tensors");
            Assert.That(seen.Select(p => p.Step), Is.EqualTo(new[] { 1, 2, 3, 4, 5 }), "cancel stops between steps");
            Assert.That(File.Exists(checkpoint));

            var resumedSteps = new List<int>();
            using TrainedLora resumed = Train(samples, options, checkpoint, p => resumedSteps.Add(p.Step));
            Assert.That(resumedSteps, Is.EqualTo(new[] { 5, 6, 7 }), "resumed after the step-4 checkpoint");
            Assert.That(resumed.Losses, Is.EqualTo(uninterrupted.Losses), "bit-identical losses");
            for (int i = 0; i < resumed.Tensors.Count; i++)
                Assert.That(resumed.Tensors[i].Value.ToArray<float>(), Is.EqualTo(uninterrupted.Tensors[i].Value.ToArray<float>()), resumed.Tensors[i].Key);

            using TrainedLora other = Train(samples, options with { Seed = 10 }, checkpoint);
            Assert.That(other.Losses, Has.Count.EqualTo(7), "a checkpoint of other options is not resumed");
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public void ProgressReportsEveryStepWithLossRateAndEta()
    {
        var samples = Samples(2, 14);
        try
        {
            var seen = new List<TrainingProgress>();
            var options = new LoraTrainingOptions { Steps = 3, LearningRate = 1e-3, WarmupSteps = 2, Seed = 2 };
            using TrainedLora lora = Train(samples, options, onStep: seen.Add);
            Assert.That(seen.Select(p => p.Step), Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(seen.Select(p => p.LearningRate), Is.EqualTo(new[] { 0, 5e-4, 1e-3 }), "linear warm-up over 2 steps");
            Assert.That(seen.Select(p => p.Loss), Is.EqualTo(lora.Losses));
            Assert.That(seen[0].SmoothedLoss, Is.EqualTo(seen[0].Loss).Within(1e-12), "bias-corrected average starts at the first loss");
            Assert.That(seen[^1].Eta, Is.EqualTo(TimeSpan.Zero));
            Assert.That(seen.All(p => p.ImagesPerSecond > 0 && p.TotalSteps == 3 && p.Epoch >= 1));
            Assert.That(seen[0].ToFields().Keys, Is.SupersetOf(new[] { "step", "total_steps", "epoch", "loss", "smoothed_loss", "learning_rate", "images_per_second", "eta_seconds" }));
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public void TheFileUsesKohyaKeysAlphaAndSsMetadata()
    {
        var samples = Samples(1, 15);
        try
        {
            string path = Path.Combine(Folder, "kohya.safetensors");
            using (TrainedLora lora = Train(samples, new LoraTrainingOptions { Steps = 1, Rank = 2, Alpha = 1 })) lora.Save(path);
            using var file = SafetensorsFile.Open(path);
            var names = file.Entries.Select(e => e.Name).ToList();
            // SD1.x: diffusers module paths; attention targets = 4 projections × 2 attentions per transformer block.
            Assert.That(names, Does.Contain("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"));
            Assert.That(names, Does.Contain("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_out_0.lora_up.weight"));
            Assert.That(names, Does.Contain("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_v.alpha"));
            Assert.That(names.Count(n => n.EndsWith(".alpha", StringComparison.Ordinal)) * 3, Is.EqualTo(names.Count));
            Assert.That(file["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"].Shape[0], Is.EqualTo(2));
            Assert.That(file.Metadata["ss_network_dim"], Is.EqualTo("2"));
            Assert.That(file.Metadata["ss_network_alpha"], Is.EqualTo("1"));
            Assert.That(file.Metadata["ss_base_model_version"], Is.EqualTo("sd_v1"));
            Assert.That(file.Metadata["ss_steps"], Is.EqualTo("1"));
            Assert.That(file.Metadata["ss_resolution"], Is.EqualTo("(64, 64)"));
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    // The ε-MSE on the samples at fixed timesteps and noise, without gradients.
    private double EvaluationLoss(IReadOnlyList<TrainingSample> samples)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        var loss = new DiffusionLoss(new DiffusionNoiseSchedule(), PredictionType.Epsilon);
        int[] timesteps = [100, 300, 500, 700, 900];
        Tensor x0 = Torch.Stack(samples.SelectMany(s => timesteps.Select(_ => s.Latent)).ToArray());
        Tensor ctx = Torch.Stack(samples.SelectMany(s => timesteps.Select(_ => s.Context)).ToArray());
        int[] ts = samples.SelectMany(_ => timesteps).ToArray();
        Tensor noise = Torch.Randn(x0.Shape, 77UL);
        Tensor prediction = Checkpoint.Unet!.Forward(loss.Noised(x0, noise, ts), Torch.FromArray(ts.Select(t => (float)t).ToArray()), ctx);
        return loss.Loss(prediction, noise, ts).Item();
    }
}
