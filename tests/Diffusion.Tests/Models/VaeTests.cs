using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

public sealed class VaeTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = ModelFixture.Load();

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void LatentsAreAnEighthOfThePixelSize()
    {
        using var scope = Torch.NewScope();
        var vae = _checkpoint.Vae!;
        Assert.That(vae.Config.DownscaleFactor, Is.EqualTo(8));
        Assert.That(vae.Decode(Torch.Zeros([2, 4, 3, 5])).Shape, Is.EqualTo(new long[] { 2, 3, 24, 40 }));
        Assert.That(vae.Encode(Torch.Zeros([1, 3, 24, 40])).Shape, Is.EqualTo(new long[] { 1, 4, 3, 5 }));
    }

    [Test]
    public void PosteriorSamplesAreSeededAndDifferFromTheMean()
    {
        using var scope = Torch.NewScope();
        var vae = _checkpoint.Vae!;
        Tensor image = ModelFixture.Io("vae.image");
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        Tensor a = vae.EncodeSample(image, g1), b = vae.EncodeSample(image, g2), again = vae.EncodeSample(image, g1);
        TensorCompare.Close(a, b, rel: 0, what: "same seed");
        Assert.That(TensorCompare.ToDoubles(again), Is.Not.EqualTo(TensorCompare.ToDoubles(a)), "the generator moves on");
        Tensor mean = vae.Encode(image);
        Assert.That(TensorCompare.ToDoubles(a), Is.Not.EqualTo(TensorCompare.ToDoubles(mean)));
    }
}
