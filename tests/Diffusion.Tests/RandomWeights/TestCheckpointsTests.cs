using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.RandomWeights;

public sealed class TestCheckpointsTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("cg-testckpt-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void TinyCheckpointsAreDeterministicFromTheSeed()
    {
        string a = Path.Combine(_dir, "a.safetensors"), b = Path.Combine(_dir, "b.safetensors"), c = Path.Combine(_dir, "c.safetensors");
        var small = TinySizes.Default.WithVocabSize(500);
        TestCheckpoints.WriteSd15(a, seed: 11, small);
        TestCheckpoints.WriteSd15(b, seed: 11, small);
        TestCheckpoints.WriteSd15(c, seed: 12, small);
        Assert.That(File.ReadAllBytes(b), Is.EqualTo(File.ReadAllBytes(a)));
        Assert.That(File.ReadAllBytes(c), Is.Not.EqualTo(File.ReadAllBytes(a)));
    }

    [Test]
    public void ATinyCheckpointRunsTextToImageShapesWithTheRealVocabulary()
    {
        string path = Path.Combine(_dir, "tiny.safetensors");
        TestCheckpoints.WriteSd15(path, seed: 1);
        using var ckpt = CheckpointLoader.Load(path);
        Assert.That(ckpt.ConfigSource, Is.EqualTo(ConfigSource.Metadata));
        Assert.That(ckpt.Config, Is.EqualTo(TinySizes.Default.ToConfig()));
        Assert.That(CheckpointLoader.ReadConfig(path), Is.EqualTo(ckpt.Config));
        using (var file = Tensors.Safetensors.SafetensorsFile.Open(path))
            Assert.That(CheckpointLoader.DetectConfig(CheckpointLoader.Shapes(file)), Is.EqualTo(ckpt.Config),
                "the tiny sizes are also detectable from the weights");

        using var scope = Torch.NewScope();
        long[] ids = new long[2 * 77];
        Array.Fill(ids, 49407);
        (ids[0], ids[1], ids[77]) = (49406, 320, 49406);
        var text = ckpt.Clip!.Forward(Torch.FromArray<long>(ids, [2, 77]));
        Tensor eps = ckpt.Unet!.Forward(Torch.Randn([2, 4, 8, 8], 0), Torch.FromArray<float>([999f, 999f], [2]), text.Hidden);
        Tensor image = ckpt.Vae!.Decode(eps);
        Assert.That(text.Hidden.Shape, Is.EqualTo(new long[] { 2, 77, 32 }));
        Assert.That(image.Shape, Is.EqualTo(new long[] { 2, 3, 64, 64 }));
        double[] values = TensorCompare.ToDoubles(eps);
        Assert.That(values.All(double.IsFinite) && values.Select(Math.Abs).Max() < 10, Is.True, "eps in a sane range");
        TensorCompare.Finite(image);
    }

    /// <summary>
    /// The acceptance test: real SD1.5 names and shapes (random float16 weights, ~2.1 GB, in a temp folder),
    /// loaded through the loader with detection, one CFG-batched UNet step at a 64×64-pixel latent on the CPU.
    /// </summary>
    [Test]
    public void AFullSizeSd15CheckpointLoadsAndRunsOneUnetStep()
    {
        string path = Path.Combine(_dir, "sd15_full_random.safetensors");
        TestCheckpoints.WriteFullSizeSd15(path, seed: 2);
        try
        {
            using var ckpt = CheckpointLoader.Load(path);
            Assert.That(ckpt.ConfigSource, Is.EqualTo(ConfigSource.Detected));
            Assert.That(ckpt.Config, Is.EqualTo(new CheckpointConfig
            {
                Family = "sd1", Unet = UnetConfig.Sd15, Clip = ClipTextConfig.ClipL, Vae = VaeConfig.KlF8,
            }));
            Assert.That(ckpt.Unet!.ParameterCount(), Is.EqualTo(859_520_964));
            Assert.That(ckpt.UnusedKeys, Is.Empty);

            using var scope = Torch.NewScope();
            Tensor x = Torch.Randn([1, 4, 8, 8], 0).Repeat(2, 1, 1, 1);
            Tensor context = Torch.Randn([2, 77, 768], 1);
            Tensor eps = ckpt.Unet.Forward(x, Torch.FromArray<float>([999f, 999f], [2]), context);
            Assert.That(eps.Shape, Is.EqualTo(new long[] { 2, 4, 8, 8 }));
            TensorCompare.Finite(eps);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
