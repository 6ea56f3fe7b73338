using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>Forward passes release every intermediate tensor: only the results outlive them.</summary>
public sealed class MemoryTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = ModelFixture.Load();

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    [Test]
    public void RepeatedForwardPassesReturnToTheBaselineLiveCount()
    {
        long baseline = Tensor.LiveCount;
        for (int i = 0; i < 3; i++)
        {
            using var scope = Torch.NewScope();
            _checkpoint.Clip!.Forward(ModelFixture.Io("clip.ids"), layer: -2);
            _checkpoint.Unet!.Forward(ModelFixture.Io("unet.x"), ModelFixture.Io("unet.t"), ModelFixture.Io("unet.context"));
            _checkpoint.Vae!.Decode(_checkpoint.Vae.Encode(ModelFixture.Io("vae.image")));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
    }

    [Test]
    public void WithoutACallerScopeOnlyTheResultSurvives()
    {
        long baseline = Tensor.LiveCount;
        Tensor x = ModelFixture.Io("unet.x"), t = ModelFixture.Io("unet.t"), ctx = ModelFixture.Io("unet.context");
        using (Tensor eps = _checkpoint.Unet!.Forward(x, t, ctx))
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline + 4));
        var clip = _checkpoint.Clip!.Forward(ModelFixture.Io("clip.ids"));
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline + 3 + 1 + 2));
        clip.Hidden.Dispose();
        clip.Pooled.Dispose();
        foreach (Tensor a in new[] { x, t, ctx }) a.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline + 1), "the ids tensor is still the caller's");
    }
}
