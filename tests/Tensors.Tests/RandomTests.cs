namespace CharacterGen.Tensors.Tests;

/// <summary>randn per seed equals torch.manual_seed(s); torch.randn(shape), which ComfyUI's noise depends on.</summary>
public sealed class RandomTests
{
    [Test]
    public void Seed42LatentBeginsWithTorchsValues()
    {
        using var scope = Torch.NewScope();
        float[] v = Torch.Randn([1, 4, 64, 64], 42UL).ToArray<float>();
        Assert.That(v[..8], Is.EqualTo(new[] { 1.926915f, 1.487284f, 0.900717f, -2.105521f, 0.678418f, -1.234545f, -0.043067f, -1.604667f })
            .Within(1e-6f));
    }

    [Test]
    public void Seed0ShortAndVectorisedPathsMatchTorch()
    {
        using var scope = Torch.NewScope();
        Assert.That(Torch.Randn([3], 0UL).ToArray<float>(), Is.EqualTo(new[] { 1.540996f, -0.293429f, -2.178789f }).Within(1e-6f));
        float[] sixteen = Torch.Randn([16], 0UL).ToArray<float>();
        Assert.That(sixteen[..4], Is.EqualTo(new[] { -1.125840f, -1.152360f, -0.250579f, -0.433879f }).Within(1e-6f));
    }

    [TestCase(0UL, new long[] { 3 }, "randn_seed0_n3")]
    [TestCase(0UL, new long[] { 16 }, "randn_seed0_n16")]
    [TestCase(42UL, new long[] { 1, 4, 64, 64 }, "randn_seed42_n1x4x64x64")]
    [TestCase(4294967301UL, new long[] { 2, 4, 8, 8 }, "randn_seed4294967301_n2x4x8x8")]
    public void WholeTensorMatchesPyTorchFixture(ulong seed, long[] shape, string fixture)
    {
        using var scope = Torch.NewScope();
        TensorAssert.Close(Torch.Randn(shape, seed), OpFixture.Get(fixture), rtol: 0, atol: 1e-6, what: fixture);
    }

    [Test]
    public void AKeptGeneratorContinuesTheSequence()
    {
        using var scope = Torch.NewScope();
        using var g = new Generator(7);
        TensorAssert.Close(Torch.Randn([10], g), OpFixture.Get("randn_continue_seed7.first"), rtol: 0, atol: 1e-6);
        TensorAssert.Close(Torch.Randn([20], g), OpFixture.Get("randn_continue_seed7.second"), rtol: 0, atol: 1e-6);
    }

    [Test]
    public void StateRestoreRepeatsTheDraws()
    {
        using var scope = Torch.NewScope();
        using var g = new Generator(99);
        Torch.Randn([5], g);
        byte[] state = g.GetState();
        float[] a = Torch.Randn([33], g).ToArray<float>();
        g.SetState(state);
        Assert.That(Torch.Randn([33], g).ToArray<float>(), Is.EqualTo(a));
        g.Reseed(99);
        Assert.That(Torch.Randn([3], g).ToArray<float>(), Is.EqualTo(Torch.Randn([3], 99UL).ToArray<float>()));
    }

    [Test]
    public void DifferentSeedsDiffer()
    {
        using var scope = Torch.NewScope();
        Assert.That(Torch.Randn([8], 1UL).ToArray<float>(), Is.Not.EqualTo(Torch.Randn([8], 2UL).ToArray<float>()));
    }
}
