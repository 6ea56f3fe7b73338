using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.T5;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>The T5 v1.1 encoder against Fixtures/make_t5_fixtures.py and the bucket vectors of next-wave.md §T.</summary>
public sealed class T5EncoderTests
{
    private static string CheckpointPath => FixtureCheckpoint.Path("t5_tiny.weights.json");

    private static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(Path.Combine(ModelFixture.Directory, "t5_tiny_io.safetensors"));
        return file.LoadTensor(name);
    }

    [TestCase(-300, 15)]
    [TestCase(-128, 15)]
    [TestCase(-64, 14)]
    [TestCase(-20, 10)]
    [TestCase(-8, 8)]
    [TestCase(-7, 7)]
    [TestCase(-1, 1)]
    [TestCase(0, 0)]
    [TestCase(1, 17)]
    [TestCase(2, 18)]
    [TestCase(7, 23)]
    [TestCase(8, 24)]
    [TestCase(12, 25)]
    [TestCase(16, 26)]
    [TestCase(20, 26)]
    [TestCase(32, 28)]
    [TestCase(64, 30)]
    [TestCase(100, 31)]
    [TestCase(127, 31)]
    [TestCase(500, 31)]
    public void RelativeBucket(int relative, int expected) =>
        Assert.That(T5RelativePosition.Bucket(relative), Is.EqualTo(expected));

    [Test]
    public void FirstPositiveDistanceOfEachLogBucket()
    {
        int[] expected = [8, 12, 16, 23, 32, 46, 64, 91];
        for (int b = 24; b < 32; b++)
        {
            int first = Enumerable.Range(1, 200).First(r => T5RelativePosition.Bucket(r) == b);
            Assert.That(first, Is.EqualTo(expected[b - 24]), $"bucket {b}");
        }
    }

    [Test]
    public void DetectsTheTinyConfiguration()
    {
        using T5Encoder t5 = T5CheckpointLoader.Load(CheckpointPath);
        T5Config c = t5.Config;
        Assert.That((c.VocabSize, c.DModel, c.Heads, c.DKv, c.DFf, c.Layers, c.RelativeBuckets), Is.EqualTo((120, 64, 4, 16, 96, 3, 32)));
        Assert.That(t5.Blocks[1].Attention.SelfAttention.RelativeBias, Is.Null, "only block 0 owns the bias table");
        using var file = SafetensorsFile.Open(CheckpointPath);
        Assert.That(ModelFamilyDetector.Detect(file.Entries.Select(e => e.Name)), Is.EqualTo(ModelFamily.TextEncoder));
    }

    [TestCase("t5")]
    [TestCase("t5_long")]
    public void HiddenStatesMatchPyTorch(string which)
    {
        using var scope = Torch.NewScope();
        using T5Encoder t5 = T5CheckpointLoader.Load(CheckpointPath);
        TensorCompare.Close(t5.Forward(Io(which + ".ids")), Io(which + ".out"), 1e-4, which);
    }

    [Test]
    public void ForwardLeaksNoTensors()
    {
        using T5Encoder t5 = T5CheckpointLoader.Load(CheckpointPath);
        using var inputs = Torch.NewScope();
        Tensor ids = Io("t5.ids");
        using (Torch.NewScope()) t5.Forward(ids);
        long live = Tensor.LiveCount;
        using (Torch.NewScope()) t5.Forward(ids);
        Assert.That(Tensor.LiveCount, Is.EqualTo(live));
    }
}
