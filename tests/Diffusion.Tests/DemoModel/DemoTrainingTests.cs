using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.DemoModel;

/// <summary>The demo model's training pieces and its builder on a recipe small enough to run in a second.</summary>
public sealed class DemoTrainingTests
{
    private static readonly DemoModelRecipe Tiny = DemoModelRecipe.Default with
    {
        LatentImages = 6,
        VaeTraining = new VaeTrainingOptions { Steps = 3, BatchSize = 2 },
        UnetTraining = new UnetTrainingOptions { Steps = 3, BatchSize = 4 },
    };

    [Test]
    public void Noising_follows_the_samplers_sigma_table()
    {
        using var scope = Torch.NewScope();
        var noising = new DiffusionNoising();
        var sigmas = DiscreteModelSampling.Eps().SigmaTable;
        Tensor x0 = Torch.Ones([3, 4, 2, 2]), noise = Torch.Full([3, 4, 2, 2], 2.0);
        float[] xt = noising.AddNoise(x0, noise, [0, 500, 999]).ToArray<float>();
        for (int row = 0; row < 3; row++)
        {
            double sigma = sigmas[new[] { 0, 500, 999 }[row]];
            // x_t = (x₀ + σε)/√(1 + σ²): ComfyUI's c_in applied to x₀ + σε.
            Assert.That(xt[row * 16], Is.EqualTo((1 + sigma * 2) / Math.Sqrt(1 + sigma * sigma)).Within(1e-5));
        }
        int[] t = noising.SampleTimesteps(new DemoRandom(1), 2000);
        Assert.That(t.Min(), Is.EqualTo(0));
        Assert.That(t.Max(), Is.EqualTo(999));
    }

    [Test]
    public void Learning_rate_warms_up_then_decays_to_the_floor()
    {
        Assert.That(TrainingSteps.WarmupCosine(0, 100, 1.0, 10), Is.EqualTo(0.1).Within(1e-12));
        Assert.That(TrainingSteps.WarmupCosine(10, 100, 1.0, 10), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(TrainingSteps.WarmupCosine(100, 100, 1.0, 10), Is.EqualTo(0.1).Within(1e-12));
    }

    [Test]
    public void Gradient_clipping_scales_to_the_maximum_norm()
    {
        using var scope = Torch.NewScope();
        Tensor w = Torch.Zeros([2]);
        w.RequiresGrad = true;
        (w * Torch.FromArray(new float[] { 3, 4 })).Sum().Backward();
        Assert.That(TrainingSteps.ClipGradNorm([w], 1.0), Is.EqualTo(5).Within(1e-5));
        Assert.That(w.Grad!.ToArray<float>(), Is.EqualTo(new[] { 0.6f, 0.8f }).Within(1e-5));
    }

    [Test]
    public void Normalising_the_latents_keeps_decoding_exact_and_gives_unit_variance_at_sd_scale()
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        using var vae = new AutoencoderKL(DemoModelRecipe.Default.Vae);
        TrainingInit.Initialize(vae, 5, zeroResidualOutputs: false);
        Tensor images = Torch.Rand([4, 3, 64, 64], new Generator(2)) * 2 - 1;
        Tensor before = vae.Encode(images);
        Tensor decodedBefore = vae.Decode(before);
        var (mean, scale) = VaeTraining.NormalizeLatents(vae, before);
        Tensor after = vae.Encode(images);
        TensorCompare.Close(after, (before - Torch.FromArray(mean).Reshape(1, mean.Length, 1, 1)) * scale, 1e-4, "k·(μ − m)");
        TensorCompare.Close(vae.Decode(after), decodedBefore, 1e-4, "decoded");
        Tensor scaled = after * LatentFormat.SD15.ScaleFactor;
        Assert.That(scaled.Mean().Item(), Is.EqualTo(0).Within(1e-4));
        Assert.That(Math.Sqrt(scaled.Square().Mean().Item()), Is.EqualTo(1).Within(1e-4));
    }

    [Test]
    public void The_builder_writes_a_loadable_checkpoint_deterministically_and_reuses_it()
    {
        string root = Path.Combine(Path.GetTempPath(), "cg-demo-build-" + Guid.NewGuid().ToString("N"));
        try
        {
            long live = Tensor.LiveCount;
            DemoModelFiles first = DemoModelBuilder.Build(Path.Combine(root, "a"), seed: 9, Tiny);
            DemoModelFiles second = DemoModelBuilder.Build(Path.Combine(root, "b"), seed: 9, Tiny);
            Assert.That(Tensor.LiveCount, Is.EqualTo(live), "training leaves no tensor behind");
            Assert.That((first.Cached, second.Cached), Is.EqualTo((false, false)));
            Assert.That(File.ReadAllBytes(second.Checkpoint), Is.EqualTo(File.ReadAllBytes(first.Checkpoint)), "same seed, same bytes");
            Assert.That(Path.GetFileName(first.Checkpoint), Is.EqualTo(DemoModelBuilder.CheckpointName));

            DemoModelFiles again = DemoModelBuilder.Build(Path.Combine(root, "a"), seed: 9, Tiny);
            Assert.That(again.Cached, Is.True);
            Assert.That(DemoModelBuilder.Build(Path.Combine(root, "a"), seed: 10, Tiny).Cached, Is.False, "another seed is another model");

            using var scope = Torch.NewScope();
            using var checkpoint = CheckpointLoader.Load(first.Checkpoint);
            Assert.That(checkpoint.Config.Unet, Is.EqualTo(Tiny.Unet));
            Assert.That(checkpoint.Config.Vae, Is.EqualTo(Tiny.Vae));
            Assert.That(checkpoint.Clip!.Config.VocabSize, Is.EqualTo(DemoVocabulary.Build().Count));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
