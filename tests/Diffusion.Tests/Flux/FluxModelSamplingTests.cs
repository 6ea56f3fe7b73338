using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Tests.Sampling;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>FLUX's shifted flow schedule against ../shared/reference/next-wave.md §T (computed with PyTorch).</summary>
public sealed class FluxModelSamplingTests
{
    private static readonly FluxModelSampling Dev = new();

    [TestCase(512, 512, 0.630000)]
    [TestCase(768, 768, 0.846667)]
    [TestCase(1024, 1024, 1.150000)]
    [TestCase(1360, 768, 1.147292)]
    [TestCase(832, 1216, 1.125625)]
    [TestCase(1024, 1536, 1.496667)]
    [TestCase(1536, 1536, 2.016667)]
    [TestCase(2048, 2048, 3.230000)]
    public void ShiftFollowsTheImageTokenCount(int width, int height, double expected) =>
        Assert.That(FluxModelSampling.ShiftForSize(width, height), Is.EqualTo(expected).Within(1e-6));

    [Test]
    public void TableRangeAndTimestep()
    {
        Assert.That(Dev.SigmaMin, Is.EqualTo(0.000315751).Within(1e-9));
        Assert.That(Dev.SigmaMax, Is.EqualTo(1.0).Within(1e-7));
        Assert.That(Dev.SigmaTable, Has.Count.EqualTo(10000));
        Assert.That(Dev.Parameterization, Is.SameAs(Parameterization.Const));
        Assert.That(Dev.Timestep(0.42), Is.EqualTo(0.42));
        Assert.That(Dev.Sigma(0.5), Is.EqualTo(Math.Exp(1.15) / (Math.Exp(1.15) + 1)).Within(1e-12));
    }

    [Test]
    public void SimpleSchedulerFourAndTwentySteps()
    {
        Close.Assert(Schedulers.Calculate("simple", Dev, 4).ToArray(), [1.000000, 0.904531, 0.759511, 0.512844, 0], 0, 1e-6, "4 steps");
        double[] twenty =
        [
            1.000000, 0.983608, 0.966014, 0.947080, 0.926647, 0.904531, 0.880513, 0.854338, 0.825702, 0.794239, 0.759511,
            0.720980, 0.677987, 0.629707, 0.575103, 0.512844, 0.441200, 0.357875, 0.259758, 0.142529, 0,
        ];
        Close.Assert(Schedulers.Calculate("simple", Dev, 20).ToArray(), twenty, 0, 1e-6, "20 steps");
    }

    [Test]
    public void SimpleSchedulerTwentyEightStepsEnds()
    {
        double[] s = Schedulers.Calculate("simple", Dev, 28).ToArray();
        Assert.That(s, Has.Length.EqualTo(29));
        Close.Assert(s[..4], [1.000000, 0.988413, 0.976233, 0.963410], 0, 1e-6, "head");
        Close.Assert(s[^5..], [0.344928, 0.274947, 0.195624, 0.104954, 0], 0, 1e-6, "tail");
    }

    [Test]
    public void SimpleSchedulerWithTheShiftOfAWideImage()
    {
        var wide = new FluxModelSampling(FluxModelSampling.ShiftForSize(1360, 768));
        double[] s = Schedulers.Calculate("simple", wide, 20).ToArray();
        Close.Assert(s[..3], [1.000000, 0.983564, 0.965925], 0, 1e-6, "head");
        Close.Assert(s[^3..], [0.259238, 0.142199, 0], 0, 1e-6, "tail");
    }

    [Test]
    public void SimpleSchedulerEqualsTheShiftedLinearTimeGrid()
    {
        // BFL get_schedule: linspace(1, 0, steps + 1) through the shift curve; equal to the table walk at μ = s
        double[] s = Schedulers.Calculate("simple", Dev, 20).ToArray();
        for (int j = 1; j < 20; j++)
            Assert.That(s[j], Is.EqualTo(FluxModelSampling.ShiftCurve(1.15, 1.0 - j / 20.0)).Within(1e-6), $"step {j}");
    }

    [TestCase(0.1, 0.966014)]
    [TestCase(0.2, 0.926647)]
    [TestCase(0.25, 0.904531)]
    [TestCase(0.3, 0.880513)]
    [TestCase(0.4, 0.825702)]
    [TestCase(0.5, 0.759511)]
    [TestCase(0.6, 0.677987)]
    [TestCase(0.7, 0.575103)]
    [TestCase(0.75, 0.512844)]
    [TestCase(0.8, 0.441200)]
    [TestCase(0.9, 0.259758)]
    public void PercentToSigma(double percent, double expected) =>
        Assert.That(Dev.PercentToSigma(percent), Is.EqualTo(expected).Within(1e-6));

    [Test]
    public void PercentToSigmaEnds()
    {
        Assert.That(Dev.PercentToSigma(0), Is.EqualTo(1.0));
        Assert.That(Dev.PercentToSigma(1), Is.EqualTo(0.0));
    }
}
