using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

public sealed class SamplerTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();

    public static IEnumerable<string> DeterministicSamplers => ["euler", "ddim", "heun", "dpm_2", "lms", "dpmpp_2m", "uni_pc", "uni_pc_bh2"];

    public static IEnumerable<string> NoisySamplers =>
        ["euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "lcm", "ddpm", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun", "dpmpp_3m_sde"];

    private static string FixtureName(string sampler) => sampler == "ddim" ? "euler" : sampler;

    [TestCaseSource(nameof(DeterministicSamplers))]
    public void DeterministicSamplerMatchesThePythonReference(string name)
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        var ctx = new SamplerContext { ModelSampling = Sd15, Seed = toy.Seed };
        Tensor result = Samplers.Get(name).Function(toy.Denoise, toy.XInit, toy.Sigmas, ctx);
        Assert.That(result.DType, Is.EqualTo(DType.Float64));
        Close.Assert(result, SamplingFixture.Tensor($"toy.out.{FixtureName(name)}"), 1e-9, 1e-12, name); // float64 on both sides
    }

    // Both sides draw the ancestral / SDE noise from torch.Generator().manual_seed(seed + 1), randn(x.shape) per call.
    [TestCaseSource(nameof(NoisySamplers))]
    public void NoisySamplerMatchesThePythonReferenceWithTheSameNoise(string name)
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        var ctx = new SamplerContext
        {
            ModelSampling = Sd15, Seed = toy.Seed, NoiseSamplerFactory = x => new AncestralNoiseSampler(x, toy.Seed),
        };
        Tensor result = Samplers.Get(name).Function(toy.Denoise, toy.XInit, toy.Sigmas, ctx);
        Close.Assert(result, SamplingFixture.Tensor($"toy.out.{name}"), 1e-9, 1e-12, name); // float64 on both sides
    }

    [Test]
    public void AncestralSamplersUseTheSeedPlusOneGeneratorByDefault()
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        var ctx = new SamplerContext { ModelSampling = Sd15, Seed = toy.Seed };
        Tensor result = Samplers.EulerAncestral(toy.Denoise, toy.XInit, toy.Sigmas, ctx);
        Close.Assert(result, SamplingFixture.Tensor("toy.out.euler_ancestral"), 1e-5, 1e-6);
    }

    [Test]
    public void SdeSamplersAreDeterministicPerSeedWithBrownianNoise([Values("dpmpp_sde", "dpmpp_2m_sde", "dpmpp_3m_sde")] string name)
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        Tensor Run(ulong seed) => Samplers.Get(name).Function(toy.Denoise, toy.XInit, toy.Sigmas,
            new SamplerContext { ModelSampling = Sd15, Seed = seed });
        double[] a = Run(5).ToArray<double>(), b = Run(5).ToArray<double>(), c = Run(6).ToArray<double>();
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
        // The toy posterior has standard deviation s, so samples stay in a sane range around μ.
        double[] mu = toy.Mu.ToArray<double>();
        Assert.That(a.Zip(mu, (x, m) => Math.Abs(x - m)).Max(), Is.LessThan(6 * toy.S));
    }

    [Test]
    public void CallbackRunsOncePerStepWithStepAndTotal([ValueSource(typeof(Samplers), nameof(Samplers.ImplementedNames))] string name)
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        var seen = new List<(int Step, int Total)>();
        var ctx = new SamplerContext
        {
            ModelSampling = Sd15, Seed = 1,
            Callback = (step, total, x, denoised) =>
            {
                Assert.That(x.Shape, Is.EqualTo(toy.XInit.Shape));
                Assert.That(denoised.Shape, Is.EqualTo(toy.XInit.Shape));
                seen.Add((step, total));
            },
        };
        Samplers.Get(name).Function(toy.Denoise, toy.XInit, toy.Sigmas, ctx);
        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, 10).Select(i => (i, 10))));
    }

    [Test]
    public void CancellationFromTheCallbackStopsSamplingAndLeaksNothing(
        [ValueSource(typeof(Samplers), nameof(Samplers.ImplementedNames))] string name)
    {
        using var toy = new ToyModel();
        long before = Tensor.LiveCount;
        var ctx = new SamplerContext
        {
            ModelSampling = Sd15, Seed = 1,
            Callback = (step, _, _, _) => { if (step == 4) throw new OperationCanceledException(); },
        };
        Assert.Throws<OperationCanceledException>(() => Samplers.Get(name).Function(toy.Denoise, toy.XInit, toy.Sigmas, ctx));
        Assert.That(toy.Calls, Is.LessThan(13), "stopped early");
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void SamplingLeavesOnlyTheResultAlive([ValueSource(typeof(Samplers), nameof(Samplers.ImplementedNames))] string name)
    {
        using var toy = new ToyModel();
        long before = Tensor.LiveCount;
        var ctx = new SamplerContext { ModelSampling = Sd15, Seed = 1 };
        Tensor result = Samplers.Get(name).Function(toy.Denoise, toy.XInit, toy.Sigmas, ctx);
        Assert.That(Tensor.LiveCount, Is.EqualTo(before + 1), "exactly the result");
        Assert.That(toy.XInit.IsClosed, Is.False, "the input is the caller's");
        result.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }

    [Test]
    public void EmptyOrSingleSigmaReturnsACopyOfTheInput()
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        var ctx = new SamplerContext { ModelSampling = Sd15 };
        foreach (string name in Samplers.ImplementedNames)
        {
            Tensor result = Samplers.Get(name).Function(toy.Denoise, toy.XInit, new Sigmas([3.0]), ctx);
            Assert.That(ReferenceEquals(result, toy.XInit), Is.False, name);
            Assert.That(result.ToArray<double>(), Is.EqualTo(toy.XInit.ToArray<double>()), name);
        }
        Assert.That(toy.Calls, Is.EqualTo(0));
    }

    [Test]
    public void OneStepToZeroLandsOnTheDenoisedEstimate([ValueSource(typeof(Samplers), nameof(Samplers.ImplementedNames))] string name)
    {
        using var toy = new ToyModel();
        using var scope = Torch.NewScope();
        var ctx = new SamplerContext { ModelSampling = Sd15, Seed = 3 };
        Tensor result = Samplers.Get(name).Function(toy.Denoise, toy.XInit, new Sigmas([5.0, 0.0]), ctx);
        Tensor denoised = toy.Denoise(toy.XInit, 5.0);
        // UniPC stops at σ = 0.001 instead of 0 (ComfyUI); with one step ComfyUI returns its input, we take a 1st-order step.
        double abs = name.StartsWith("uni_pc", StringComparison.Ordinal) ? 0.01 : 1e-9;
        Close.Assert(result, denoised, 1e-9, abs, name);
    }

    [Test]
    public void AncestralStepSplitsTheVariance()
    {
        var (down, up) = Samplers.AncestralStep(2.0, 1.0);
        Assert.That(down * down + up * up, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(up, Is.EqualTo(Math.Sqrt(1.0 * (4 - 1) / 4)).Within(1e-12));
        Assert.That(Samplers.AncestralStep(2.0, 0.0), Is.EqualTo((0.0, 0.0)));
        Assert.That(Samplers.AncestralStep(2.0, 1.0, eta: 0), Is.EqualTo((1.0, 0.0)));
    }

    [Test]
    public void LmsCoefficientsIntegrateTheLagrangeBasis()
    {
        double[] t = [4, 3, 2, 1.5, 1];
        // With all basis polynomials the weights sum to the interval length.
        double sum = Enumerable.Range(0, 4).Sum(j => Samplers.LinearMultistepCoefficient(4, t, 3, j));
        Assert.That(sum, Is.EqualTo(1.0 - 1.5).Within(1e-14));
        Assert.That(Samplers.LinearMultistepCoefficient(1, t, 0, 0), Is.EqualTo(-1).Within(1e-14));
    }
}
