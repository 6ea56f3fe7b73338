using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Training;

/// <summary>Text-encoder LoRA training (kohya lora_te_): it learns, is written in kohya's keys and changes the conditioning when loaded.</summary>
public sealed class TextEncoderLoraTrainingTests() : TinyCheckpointFixture(CheckpointParts.Unet | CheckpointParts.Clip)
{
    // Samples whose cached context is the frozen text encoder's output for their tokens (as MakeTrainingDataset makes them).
    private List<TrainingSample> Samples(int count, ulong seed)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        using var g = new Generator(seed);
        var samples = new List<TrainingSample>();
        for (int i = 0; i < count; i++)
        {
            Tensor ids = Torch.RandInt(1, 400, [77], g);
            samples.Add(new TrainingSample(Torch.Randn([4, 8, 8], g), Checkpoint.Clip!.Forward(ids.Unsqueeze(0)).Hidden.Select(0, 0), tokens: ids));
        }
        return samples;
    }

    private TrainedLora Train(IReadOnlyList<TrainingSample> samples, LoraTrainingOptions options) =>
        new LoraTrainer(Checkpoint.Unet!, Checkpoint.Family, Checkpoint.Prediction, samples, options, Checkpoint.Clip).Train("tiny|te");

    [Test]
    public void TheTextEncoderLoraLearnsIsWrittenAsLoraTeAndChangesTheConditioning()
    {
        var samples = Samples(2, 41);
        try
        {
            var clipWeights = Checkpoint.Clip!.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Value.ToArray<float>());
            var options = new LoraTrainingOptions
            {
                Steps = 4, BatchSize = 2, LearningRate = 1e-3, TextEncoderLearningRate = 5e-3, Targets = LoraTargets.Attention, Seed = 2,
                TrainTextEncoder = true,
            };
            string path = Path.Combine(Folder, "te.safetensors");
            long baseline = Tensor.LiveCount;
            IReadOnlyList<double> losses;
            using (TrainedLora lora = Train(samples, options))
            {
                losses = lora.Losses;
                var te = lora.Tensors.Where(t => t.Key.StartsWith("lora_te_", StringComparison.Ordinal)).ToList();
                Assert.That(te, Is.Not.Empty);
                using (Torch.NewScope())
                    Assert.That(te.Where(t => t.Key.EndsWith(".lora_up.weight", StringComparison.Ordinal)).All(t => t.Value.Abs().Max().Item() > 0),
                        "every text-encoder up matrix moved from zero");
                lora.Save(path);
            }
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline), "no tensor of the run survives it");
            foreach (var (name, values) in clipWeights)
                Assert.That(Checkpoint.Clip.NamedParameters().First(p => p.Key == name).Value.Value.ToArray<float>(), Is.EqualTo(values), $"{name} is frozen");

            using (var file = SafetensorsFile.Open(path))
            {
                var names = file.Entries.Select(e => e.Name).ToHashSet();
                foreach (string part in new[] { "self_attn_q_proj", "self_attn_k_proj", "self_attn_v_proj", "self_attn_out_proj", "mlp_fc1", "mlp_fc2" })
                    foreach (string suffix in new[] { ".lora_down.weight", ".lora_up.weight", ".alpha" })
                        Assert.That(names, Does.Contain($"lora_te_text_model_encoder_layers_1_{part}{suffix}"));
                Assert.That(file.Metadata["ss_network_train_unet_only"], Is.EqualTo("False"));
                Assert.That(file.Metadata["ss_text_encoder_lr"], Is.EqualTo("0.005"));
            }

            // LoraLoader's path: every key maps, the CLIP patch changes the conditioning of the trained prompt.
            using LoraFile loaded = LoraFile.Load(path);
            using LoraPatches patches = LoraMapper.Map(loaded, "te", Checkpoint.Unet, Checkpoint.Clip, "tiny");
            Assert.That(patches.Unmatched, Is.Empty);
            Assert.That(patches.Patches.Count(p => p.Target == LoraTarget.Clip), Is.EqualTo(2 * 6), "2 layers × 6 linears");
            float[] before = Conditioning(samples[0]);
            try
            {
                Checkpoint.ClipPatcher.Apply([new WeightedLora(patches.Only(LoraTarget.Clip), 1.0)]);
                float[] after = Conditioning(samples[0]);
                Assert.That(after.Zip(before).Max(p => Math.Abs(p.First - p.Second)), Is.GreaterThan(1e-3), "the conditioning changed");
            }
            finally
            {
                Checkpoint.ClipPatcher.Apply([]);
            }
            Assert.That(Conditioning(samples[0]), Is.EqualTo(before), "removing the LoRA restores the encoder");

            using TrainedLora unetOnly = Train(samples, options with { TrainTextEncoder = false });
            Assert.That(unetOnly.Tensors.Any(t => t.Key.StartsWith("lora_te_", StringComparison.Ordinal)), Is.False);
            Assert.That(unetOnly.Losses[0], Is.EqualTo(losses[0]).Within(1e-4).Percent, "the first step sees the same context, computed or cached (up to batch-size rounding)");
            Assert.That(unetOnly.Losses[^1], Is.Not.EqualTo(losses[^1]), "training the text encoder changes the run");
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    [Test]
    public void WithoutTokensTheTextEncoderCannotBeTrained()
    {
        var samples = LoraTrainerTests.Samples(1, 42);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => Train(samples, new LoraTrainingOptions { Steps = 1, TrainTextEncoder = true }).Dispose());
            Assert.That(e!.Message, Does.Contain("token ids"));
        }
        finally
        {
            samples.ForEach(s => s.Dispose());
        }
    }

    private float[] Conditioning(TrainingSample sample)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        return Checkpoint.Clip!.Forward(sample.Tokens!.Unsqueeze(0)).Hidden.ToArray<float>();
    }
}
