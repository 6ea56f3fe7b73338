using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

public sealed class NoiseTests
{
    // shared/reference/comfyui.md "Test vectors" (torch CPU randn, float32)
    [Test]
    public void SeedZeroMatchesTorchRandn()
    {
        using var scope = Torch.NewScope();
        Close.Assert(Noise.Prepare([3], 0).To(DType.Float64).ToArray<double>(), [1.540996, -0.293429, -2.178789], 0, 1e-6, "n=3");
        Close.Assert(Noise.Prepare([16], 0).To(DType.Float64).ToArray<double>(),
        [
            -1.125840, -1.152360, -0.250579, -0.433879, 0.848710, 0.692009, -0.316013, -2.115219,
            0.322275, -1.263335, 0.349983, 0.308134, 0.119842, 1.237658, 1.116777, -0.247278,
        ], 0, 1e-6, "n=16");
    }

    [Test]
    public void Seed42LatentMatchesTorchRandn()
    {
        using var scope = Torch.NewScope();
        Tensor noise = Noise.Prepare([1, 4, 64, 64], 42);
        Assert.That(noise.DType, Is.EqualTo(DType.Float32));
        Assert.That(noise.Device, Is.EqualTo(Device.Cpu));
        double[] v = noise.To(DType.Float64).ToArray<double>();
        Close.Assert(v[..8], [1.926915, 1.487284, 0.900717, -2.105521, 0.678418, -1.234545, -0.043067, -1.604667], 0, 1e-6);
        Close.Assert(noise, SamplingFixture.Tensor("noise.seed42_1x4x64x64"), 0, 1e-6);
    }

    [Test]
    public void SeedsAbove32BitsMatchTorch()
    {
        using var scope = Torch.NewScope();
        Close.Assert(Noise.Prepare([2, 4, 8, 8], (1UL << 32) + 5), SamplingFixture.Tensor("noise.seed4294967301_2x4x8x8"), 0, 1e-6);
    }

    [Test]
    public void BatchIndexDrawsImagesSequentiallyAndPicksThem()
    {
        using var scope = Torch.NewScope();
        Tensor picked = Noise.Prepare([3, 4, 8, 8], 7, [2, 0, 2]);
        Close.Assert(picked, SamplingFixture.Tensor("noise.seed7_batch_index_2_0_2"), 0, 0);
        // image 2 alone reproduces image 2 of the batch (C·H·W is a multiple of 16)
        Tensor batch = Noise.Prepare([3, 4, 8, 8], 7);
        Tensor alone = Noise.Prepare([1, 4, 8, 8], 7, [2]);
        Close.Assert(alone, batch.Narrow(0, 2, 1), 0, 0);
    }

    [Test]
    public void AncestralNoiseContinuesASeedPlusOneGenerator()
    {
        using var scope = Torch.NewScope();
        Tensor like = Torch.Zeros([2, 4, 4]);
        using var sampler = new AncestralNoiseSampler(like, 41);
        Tensor first = sampler.Sample(2, 1), second = sampler.Sample(1, 0.5);
        using var reference = new Generator(42);
        Close.Assert(first, Torch.Randn([2, 4, 4], reference), 0, 0, "first");
        Close.Assert(second, Torch.Randn([2, 4, 4], reference), 0, 0, "second");
    }

    [Test]
    public void BrownianIncrementsAddUpAlongOnePath()
    {
        using var scope = Torch.NewScope();
        Tensor like = Torch.Zeros([1, 4, 32, 32]);
        using var path = new BrownianNoiseSampler(like, 0.03, 14.6, 9);
        double a = 14.6, b = 5.0, c = 2.0;
        // Query the long interval first, then its parts: W(c) − W(a) = (W(b) − W(a)) + (W(c) − W(b)).
        Tensor whole = path.Sample(a, c) * Math.Sqrt(a - c);
        Tensor first = path.Sample(a, b) * Math.Sqrt(a - b);
        Tensor second = path.Sample(b, c) * Math.Sqrt(b - c);
        Close.Assert(first + second, whole, 1e-5, 1e-5, "additivity");
    }

    [Test]
    public void BrownianNoiseIsStandardNormalWithBrownianCorrelations()
    {
        using var scope = Torch.NewScope();
        Tensor like = Torch.Zeros([1, 4, 128, 128]); // 65536 samples per draw
        using var path = new BrownianNoiseSampler(like, 0.03, 14.6, 3);
        Tensor full = path.Sample(10, 2);     // over [2, 10]
        Tensor part = path.Sample(10, 6);     // over [6, 10], inside it
        Tensor later = path.Sample(2, 1);     // disjoint
        double Mean(Tensor t) => t.Mean().Item();
        double Var(Tensor t) => t.Var([0, 1, 2, 3]).Item();
        double Corr(Tensor x, Tensor y) => Mean(x * y) - Mean(x) * Mean(y);
        foreach (Tensor n in new[] { full, part, later })
        {
            Assert.That(Mean(n), Is.EqualTo(0).Within(0.02));
            Assert.That(Var(n), Is.EqualTo(1).Within(0.03));
        }
        // Cov(W(10)−W(2), W(10)−W(6)) / √(8·4) = 4/√32
        Assert.That(Corr(full, part), Is.EqualTo(4 / Math.Sqrt(32)).Within(0.02));
        Assert.That(Corr(full, later), Is.EqualTo(0).Within(0.02));
    }

    [Test]
    public void BrownianNoiseIsDeterministicPerSeedAndForgetsPassedPoints()
    {
        using var scope = Torch.NewScope();
        Tensor like = Torch.Zeros([1, 4, 8, 8]);
        double[] Run(ulong seed)
        {
            using var path = new BrownianNoiseSampler(like, 0.03, 14.6, seed);
            var all = new List<double>();
            double[] sigmas = [14.6, 8, 4, 2, 1, 0.5, 0.25, 0.1, 0.03];
            for (int i = 0; i + 1 < sigmas.Length; i++)
            {
                all.AddRange(path.Sample(sigmas[i], Math.Sqrt(sigmas[i] * sigmas[i + 1])).ToArray<float>().Select(f => (double)f));
                all.AddRange(path.Sample(sigmas[i], sigmas[i + 1]).ToArray<float>().Select(f => (double)f));
                Assert.That(path.HeldPoints, Is.LessThanOrEqualTo(4));
            }
            return all.ToArray();
        }
        Assert.That(Run(1), Is.EqualTo(Run(1)));
        Assert.That(Run(1), Is.Not.EqualTo(Run(2)));
    }

    [Test]
    public void NoiseSamplersReleaseEverything()
    {
        long before = Tensor.LiveCount;
        using (var scope = Torch.NewScope())
        {
            Tensor like = Torch.Zeros([1, 4, 8, 8]);
            using var path = new BrownianNoiseSampler(like, 0.03, 14.6, 1);
            path.Sample(14.6, 3);
            path.Sample(3, 1);
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }
}
