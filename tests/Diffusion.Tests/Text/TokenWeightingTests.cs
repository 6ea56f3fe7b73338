using CharacterGen.Diffusion.Text;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Text;

public sealed class TokenWeightingTests
{
    [Test]
    public void WeightedPositionsMoveAwayFromTheEmptyPromptAndOthersStayExact()
    {
        using var scope = Torch.NewScope();
        float[] z = Enumerable.Range(0, 12).Select(i => 0.1f * i - 0.37f).ToArray();
        float[] empty = Enumerable.Range(0, 12).Select(i => 0.05f * i + 0.11f).ToArray();
        double[] weights = [1.0, 1.2, 1.0, 0.5];

        Tensor result = TokenWeighting.Apply(Torch.FromArray<float>(z, [1, 4, 3]), Torch.FromArray<float>(empty, [4, 3]), weights);

        Assert.That(result.Shape, Is.EqualTo(new long[] { 1, 4, 3 }));
        float[] got = result.ToArray<float>();
        for (int i = 0; i < 12; i++)
        {
            float w = (float)weights[i / 3];
            float expected = weights[i / 3] == 1.0 ? z[i] : (z[i] - empty[i]) * w + empty[i];
            Assert.That(got[i], Is.EqualTo(expected), $"element {i}");
        }
    }

    [Test]
    public void TheWeightCountMustMatchThePositions()
    {
        using var scope = Torch.NewScope();
        Assert.Throws<ArgumentException>(() => TokenWeighting.Apply(Torch.Zeros([1, 4, 3]), Torch.Zeros([4, 3]), [1.0, 2.0]));
    }

    [Test]
    public void OnlyWeightedPromptsNeedTheEmptyPrompt()
    {
        var plain = new TokenChunk([new PromptToken(49406, 1.0), new PromptToken(320, 1.0)]);
        var weighted = new TokenChunk([new PromptToken(49406, 1.0), new PromptToken(320, 1.1)]);
        Assert.That(TokenWeighting.HasWeights([plain]), Is.False);
        Assert.That(TokenWeighting.HasWeights([plain, weighted]), Is.True);
    }
}
