using CharacterGen.Diffusion.Models.Flux;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>RoPE frequencies, rotation and the ×1000 sinusoid against ../shared/reference/next-wave.md §T.</summary>
public sealed class FluxEmbeddingTests
{
    [Test]
    public void RopeFrequenciesOfBothAxisWidths()
    {
        double[] w16 = FluxRope.Frequencies(16, 10000);
        Assert.That(w16, Has.Length.EqualTo(8));
        double[] head16 = [1, 0.31622777, 0.1, 0.031622777];
        for (int k = 0; k < 4; k++) Assert.That(w16[k], Is.EqualTo(head16[k]).Within(1e-4).Percent);
        Assert.That(w16[6], Is.EqualTo(0.001).Within(1e-4).Percent);
        Assert.That(w16[7], Is.EqualTo(0.00031622777).Within(1e-4).Percent);

        double[] w56 = FluxRope.Frequencies(56, 10000);
        Assert.That(w56, Has.Length.EqualTo(28));
        double[] head56 = [1, 0.71968567, 0.51794747, 0.37275937];
        for (int k = 0; k < 4; k++) Assert.That(w56[k], Is.EqualTo(head56[k]).Within(1e-7));
        Assert.That(w56[26], Is.EqualTo(0.00019306977).Within(1e-4).Percent);
        Assert.That(w56[27], Is.EqualTo(0.00013894955).Within(1e-4).Percent);
    }

    [Test]
    public void RopeRotatesAdjacentPairsPerAxis()
    {
        using var scope = Torch.NewScope();
        // one token at (0, 2, 5): pair 0 (axis 0) stays, pair 8 (axis 1, k = 0) turns by 2 rad, pair 36 (axis 2) by 5
        var (cos, sin) = FluxRope.Angles([[0, 2, 5]], [16, 56, 56], 10000, Device.Cpu);
        var x = new float[128];
        x[0] = 1; x[1] = 2; x[16] = 1; x[72] = 0; x[73] = 1;
        float[] r = FluxRope.Apply(Torch.FromArray<float>(x, [1, 1, 1, 128]), cos, sin).ToArray<float>();
        Assert.That(r[0], Is.EqualTo(1f));
        Assert.That(r[1], Is.EqualTo(2f));
        Assert.That(r[16], Is.EqualTo(Math.Cos(2)).Within(1e-6));
        Assert.That(r[17], Is.EqualTo(Math.Sin(2)).Within(1e-6));
        Assert.That(r[72], Is.EqualTo(-Math.Sin(5)).Within(1e-6));
        Assert.That(r[73], Is.EqualTo(Math.Cos(5)).Within(1e-6));
    }

    [Test]
    public void JointPositionsPutTextAtTheOriginAndImageOnTheGrid()
    {
        double[][] ids = FluxRope.JointPositions(2, 2, 3);
        Assert.That(ids, Has.Length.EqualTo(8));
        Assert.That(ids[1], Is.EqualTo(new double[] { 0, 0, 0 }));
        Assert.That(ids[2 + 4], Is.EqualTo(new double[] { 0, 1, 1 }));
        Assert.That(ids[7], Is.EqualTo(new double[] { 0, 1, 2 }));
    }

    [TestCase(1.0, 0.562379, 0.789627, 0.439928, 0.826880, 0.613588, -0.898033)]
    [TestCase(3.5, 0.964887, -0.675330, -0.723518, 0.262666, 0.737516, 0.690305)]
    public void SinusoidOfTimeAndGuidance(double value, double e0, double e1, double e2, double e128, double e129, double e130)
    {
        using var scope = Torch.NewScope();
        float[] e = TimestepEmbedding.Sinusoidal(Torch.FromArray(new[] { (float)value }) * 1000.0, 256).ToArray<float>();
        double[] expected = [e0, e1, e2, e128, e129, e130];
        double[] actual = [e[0], e[1], e[2], e[128], e[129], e[130]];
        for (int i = 0; i < 6; i++) Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-6), $"element {i}");
    }

    [Test]
    public void PatchifyPacksChannelMajorAndUnpatchifyInverts()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.Arange(0, 2 * 3 * 4 * 6).Reshape(2, 3, 4, 6);
        Tensor tokens = FluxPatches.Patchify(x);
        Assert.That(tokens.Shape, Is.EqualTo(new long[] { 2, 6, 12 }));
        float[] t = tokens.ToArray<float>();
        // token 4 = patch row 1, col 1 of batch 0: channel 0 at rows 2-3, cols 2-3 of a 4×6 plane, then channel 1
        Assert.That(t[48..53], Is.EqualTo(new float[] { 14, 15, 20, 21, 38 }));
        Assert.That(FluxPatches.Unpatchify(tokens, 2, 3).ToArray<float>(), Is.EqualTo(x.ToArray<float>()));
    }
}

public sealed class HalfScrubTests
{
    [Test]
    public void Float16NanAndInfinityAreScrubbedOtherDtypesAreNot()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.FromArray(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1.5f });
        float[] half = HalfScrub.Apply(x.To(DType.Float16)).To(DType.Float32).ToArray<float>();
        Assert.That(half, Is.EqualTo(new[] { 0f, 65504f, -65504f, 1.5f }));
        float[] single = HalfScrub.Apply(x).ToArray<float>();
        Assert.That(float.IsNaN(single[0]) && float.IsPositiveInfinity(single[1]), Is.True);
    }
}
