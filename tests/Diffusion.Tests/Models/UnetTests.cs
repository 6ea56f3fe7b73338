using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

public sealed class UnetTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = ModelFixture.Load();

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void BatchRowsAreIndependent()
    {
        using var scope = Torch.NewScope();
        Tensor x = ModelFixture.Io("unet.x"), t = ModelFixture.Io("unet.t"), ctx = ModelFixture.Io("unet.context");
        Tensor batch = _checkpoint.Unet!.Forward(x, t, ctx);
        for (int i = 0; i < 2; i++)
        {
            Tensor one = _checkpoint.Unet.Forward(x.Narrow(0, i, 1), t.Narrow(0, i, 1), ctx.Narrow(0, i, 1));
            TensorCompare.Close(one, batch.Narrow(0, i, 1), rel: 1e-5, what: $"row {i}");
        }
    }

    [Test]
    public void TimestepEmbeddingIsCosThenSin()
    {
        using var scope = Torch.NewScope();
        double[] e = TensorCompare.ToDoubles(TimestepEmbedding.Sinusoidal(Torch.FromArray<float>([0f, 10f], [2]), 8));
        Assert.That(e.Take(8), Is.EqualTo(new double[] { 1, 1, 1, 1, 0, 0, 0, 0 }));
        // t = 10, k = 1: f = exp(−ln(10000)·1/4) = 0.1
        Assert.That(e[9], Is.EqualTo(Math.Cos(1.0)).Within(1e-6));
        Assert.That(e[13], Is.EqualTo(Math.Sin(1.0)).Within(1e-6));
    }

    [Test]
    public void WrongInputShapesAreRejected()
    {
        using var scope = Torch.NewScope();
        Tensor x = ModelFixture.Io("unet.x"), t = ModelFixture.Io("unet.t"), ctx = ModelFixture.Io("unet.context");
        var unet = _checkpoint.Unet!;
        Assert.Throws<ArgumentException>(() => unet.Forward(x.Narrow(1, 0, 3), t, ctx));
        Assert.Throws<ArgumentException>(() => unet.Forward(x, t.Narrow(0, 0, 1), ctx));
        Assert.Throws<ArgumentException>(() => unet.Forward(x, t, ctx.Narrow(2, 0, 16)));
    }
}
