using CharacterGen.Diffusion.Sampling;

namespace CharacterGen.Diffusion.Tests.Sampling;

public sealed class BetaDistributionTests
{
    [TestCase(1.5, 0.5 * 1.7724538509055159)] // Γ(1.5) = √π / 2
    [TestCase(5.0, 24.0)]
    [TestCase(0.6, 1.4891922488128171)]
    [TestCase(10.5, 1133278.3889487855)]
    public void LogGammaMatchesKnownValues(double x, double gamma) =>
        Assert.That(BetaDistribution.LogGamma(x), Is.EqualTo(Math.Log(gamma)).Within(1e-13));

    [TestCase(0.1)]
    [TestCase(0.37)]
    [TestCase(0.5)]
    [TestCase(0.93)]
    public void CdfMatchesClosedForms(double x)
    {
        Assert.That(BetaDistribution.Cdf(x, 1, 1), Is.EqualTo(x).Within(1e-14));
        Assert.That(BetaDistribution.Cdf(x, 2, 2), Is.EqualTo(3 * x * x - 2 * x * x * x).Within(1e-14));
        // the arcsine distribution
        Assert.That(BetaDistribution.Cdf(x, 0.5, 0.5), Is.EqualTo(2 / Math.PI * Math.Asin(Math.Sqrt(x))).Within(1e-13));
        Assert.That(BetaDistribution.Ppf(2 / Math.PI * Math.Asin(Math.Sqrt(x)), 0.5, 0.5), Is.EqualTo(x).Within(1e-13));
    }

    [TestCase(0.6, 0.6)]
    [TestCase(2.0, 5.0)]
    [TestCase(0.5, 0.5)]
    public void QuantilesMatchBisectionOnNumericalIntegration(double a, double b)
    {
        double[] ps = SamplingFixture.Doubles("beta.ps");
        double[] expected = SamplingFixture.Doubles($"beta.ppf.a{a:0.0}_b{b:0.0}");
        Close.Assert(ps.Select(p => BetaDistribution.Ppf(p, a, b)).ToArray(), expected, 1e-9, 1e-12, "ppf");
        double[] xs = [0.01, 0.2, 0.5, 0.8, 0.99];
        Close.Assert(xs.Select(x => BetaDistribution.Cdf(x, a, b)).ToArray(), SamplingFixture.Doubles($"beta.cdf.a{a:0.0}_b{b:0.0}"), 1e-9, 1e-12, "cdf");
    }

    [Test]
    public void PpfIsSymmetricAndHandlesTheEnds()
    {
        Assert.That(BetaDistribution.Ppf(0.5, 0.6, 0.6), Is.EqualTo(0.5).Within(1e-15));
        Assert.That(BetaDistribution.Ppf(0.2, 0.6, 0.6) + BetaDistribution.Ppf(0.8, 0.6, 0.6), Is.EqualTo(1).Within(1e-14));
        Assert.That(BetaDistribution.Ppf(0, 0.6, 0.6), Is.EqualTo(0));
        Assert.That(BetaDistribution.Ppf(1, 0.6, 0.6), Is.EqualTo(1));
        Assert.That(double.IsNaN(BetaDistribution.Ppf(1.5, 0.6, 0.6)));
    }
}
