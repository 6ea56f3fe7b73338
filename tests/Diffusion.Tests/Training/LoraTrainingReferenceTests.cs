using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Training;

/// <summary>
/// One LoRA training step on the tiny SD1.5 and SDXL fixture checkpoints against an independent PyTorch 1.13
/// implementation (Fixtures/make_lora_training_fixtures.py: merged-weight LoRA, torch.optim.AdamW): same initial LoRA,
/// sample, timestep and noise (drawn from the seed), loss within 1e-4 relative, updated LoRA weights within 1e-4 of each tensor's largest value.
/// The SD1.5 step is also checked with the text encoder trained (kohya lora_te_, its own learning rate).
/// </summary>
public sealed class LoraTrainingReferenceTests
{
    private const double Tolerance = 1e-4;

    private static string FixturePath => Path.Combine(ModelFixture.Directory, "lora_training_step.safetensors");

    [TestCase("sd15", "sd15_tiny.weights.json")]
    [TestCase("sd15te", "sd15_tiny.weights.json")]
    [TestCase("sdxl", "sdxl_tiny.weights.json")]
    public void OneStepMatchesPyTorch(string name, string recipe)
    {
        bool te = name == "sd15te";
        using var ckpt = CheckpointLoader.Load(FixtureCheckpoint.Path(recipe), parts: te ? CheckpointParts.Unet | CheckpointParts.Clip : CheckpointParts.Unet);
        using var file = SafetensorsFile.Open(FixturePath);
        using var scope = Torch.NewScope();
        var names = new KohyaLoraNames(ckpt.Unet!.Config, ckpt.Family);
        string Kohya(string fixtureKey, string part)
        {
            string rest = fixtureKey[(name.Length + part.Length + 2)..]; // "<module>.lora_down.weight"
            int suffix = rest.IndexOf(".lora_", StringComparison.Ordinal);
            // Text-encoder modules are stored under their kohya names already ("te:lora_te_…").
            string module = rest[..suffix];
            return (module.StartsWith("te:", StringComparison.Ordinal) ? module[3..] : names.UnetKey(module)) + rest[suffix..];
        }
        Dictionary<string, Tensor> Lora(string part) => file.Entries.Where(e => e.Name.StartsWith($"{name}.{part}.", StringComparison.Ordinal))
            .ToDictionary(e => Kohya(e.Name, part), e => file.LoadTensor(e.Name));
        var initial = Lora("init");
        var expected = Lora("trained");

        TrainingSample sample;
        if (te)
        {
            Tensor ids = file.LoadTensor($"{name}.ids");
            using (Autograd.NoGrad()) sample = new TrainingSample(file.LoadTensor($"{name}.x0"), ckpt.Clip!.Forward(ids.Unsqueeze(0)).Hidden.Select(0, 0), tokens: ids);
        }
        else
            sample = new TrainingSample(file.LoadTensor($"{name}.x0"), file.LoadTensor($"{name}.context"),
                file.Contains($"{name}.adm") ? file.LoadTensor($"{name}.adm") : null);
        try
        {
            var options = new LoraTrainingOptions
            {
                Steps = 1, Rank = 2, Alpha = 1.0, LearningRate = 1e-3, Targets = LoraTargets.Attention, Seed = 7,
                TrainTextEncoder = te, TextEncoderLearningRate = te ? 5e-3 : null,
            };
            using TrainedLora trained = new LoraTrainer(ckpt.Unet, ckpt.Family, ckpt.Prediction, [sample], options, ckpt.Clip)
                .Train("reference", initialLora: initial);

            double loss = file.LoadTensor($"{name}.loss").Item();
            Assert.That(trained.Losses[0], Is.EqualTo(loss).Within(Tolerance * loss), "loss");
            var actual = trained.Tensors.Where(t => !t.Key.EndsWith(".alpha", StringComparison.Ordinal)).ToDictionary(t => t.Key, t => t.Value);
            Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
            int changed = 0;
            foreach (var (key, want) in expected)
            {
                // Relative to each tensor's scale (as the model reference tests): Adam's first step turns every gradient
                // into ≈ ±lr, so an element whose gradient is near ε amplifies float32 rounding on its own.
                TensorCompare.Close(actual[key], want, Tolerance, key);
                float[] e = want.ToArray<float>(), before = initial[key].ToArray<float>();
                changed += e.Zip(before, (x, y) => x != y ? 1 : 0).Sum();
            }
            Assert.That(changed, Is.GreaterThan(0), "the step moved the weights");
        }
        finally
        {
            sample.Dispose();
        }
    }
}
