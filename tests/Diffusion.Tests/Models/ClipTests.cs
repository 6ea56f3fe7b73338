using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models;

public sealed class ClipTests
{
    private StableDiffusionCheckpoint _checkpoint = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint() => _checkpoint = ModelFixture.Load();

    [OneTimeTearDown]
    public void Dispose() => _checkpoint.Dispose();

    private ClipTextModel Clip => _checkpoint.Clip!;

    [Test]
    public void ForwardFromEmbeddingsEqualsForwardFromIds()
    {
        using var scope = Torch.NewScope();
        Tensor ids = ModelFixture.Io("clip.ids");
        var a = Clip.Forward(ids, layer: -2);
        var b = Clip.ForwardEmbeddings(Clip.EmbedTokens(ids), ClipTextModel.PooledPositions(ids), layer: -2);
        TensorCompare.Close(b.Hidden, a.Hidden, rel: 0, what: "hidden");
        TensorCompare.Close(b.Pooled, a.Pooled, rel: 0, what: "pooled");
    }

    [Test]
    public void ASplicedEmbeddingChangesOnlyItsPositionAndLaterOnes()
    {
        using var scope = Torch.NewScope();
        Tensor ids = ModelFixture.Io("clip.ids").Narrow(0, 0, 1);
        Tensor embeds = Clip.EmbedTokens(ids);
        var before = TensorCompare.ToDoubles(Clip.ForwardEmbeddings(embeds, [6]).Hidden);
        // A textual-inversion vector replaces the row at position 3.
        Tensor spliced = Torch.Cat([embeds.Narrow(1, 0, 3), Torch.Ones([1, 1, 32]), embeds.Narrow(1, 4, 73)], 1);
        var after = TensorCompare.ToDoubles(Clip.ForwardEmbeddings(spliced, [6]).Hidden);
        for (int pos = 0; pos < 77; pos++)
        {
            bool same = before.AsSpan(pos * 32, 32).SequenceEqual(after.AsSpan(pos * 32, 32));
            Assert.That(same, Is.EqualTo(pos < 3), $"position {pos} (causal attention)");
        }
    }

    [Test]
    public void NonNegativeLayersCountFromTheFirst()
    {
        using var scope = Torch.NewScope();
        Tensor ids = ModelFixture.Io("clip.ids");
        int layers = Clip.Config.NumHiddenLayers;
        TensorCompare.Close(Clip.Forward(ids, layers - 2).Hidden, Clip.Forward(ids, -2).Hidden, rel: 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => Clip.Forward(ids, layers));
        Assert.Throws<ArgumentOutOfRangeException>(() => Clip.Forward(ids, -layers - 1));
    }

    [Test]
    public void PooledPositionIsTheFirstLargestId()
    {
        using var scope = Torch.NewScope();
        Tensor ids = Torch.FromArray<long>([5, 1, 9, 9, 2, 7, 3, 1], [2, 4]);
        Assert.That(ClipTextModel.PooledPositions(ids), Is.EqualTo(new long[] { 2, 1 }));
    }
}
