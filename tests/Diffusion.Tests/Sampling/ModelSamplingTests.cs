using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

public sealed class ModelSamplingTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();

    [Test]
    public void SigmaRangeMatchesTheReference()
    {
        Assert.That(Sd15.SigmaMin, Is.EqualTo(0.029167159).Within(1e-9));
        Assert.That(Sd15.SigmaMax, Is.EqualTo(14.614641190).Within(1e-7));
        Assert.That(Sd15.Timestep(Sd15.SigmaMax), Is.EqualTo(999));
        Assert.That(Sd15.Timestep(Sd15.SigmaMin), Is.EqualTo(0));
    }

    [Test]
    public void SigmaTableEqualsTorchFloat64ScheduleRoundedToFloat32()
    {
        float[] expected = SamplingFixture.Floats("model.sigmas");
        Assert.That(Sd15.SigmaTable, Is.EqualTo(expected));
    }

    [Test]
    public void TimestepIsTheNearestLogSigmaIndex()
    {
        double[] probes = [Sd15.SigmaMax, Sd15.SigmaMin, 1.0, 3.0, 0.5];
        double[] expected = SamplingFixture.Doubles("model.timesteps_probe");
        Assert.That(probes.Select(Sd15.Timestep), Is.EqualTo(expected));
    }

    [Test]
    public void SigmaInterpolatesLogSigmaBetweenTimesteps()
    {
        double[] ts = [0, 999, 500.25, 123.5, 998.9];
        Close.Assert(ts.Select(Sd15.Sigma).ToArray(), SamplingFixture.Doubles("model.sigma_probe"), 1e-6, 0, "sigma(t)");
        Close.Assert(new[] { 0.1, 0.5, 0.9 }.Select(Sd15.PercentToSigma).ToArray(), SamplingFixture.Doubles("model.percent_probe"), 1e-6, 0, "percent");
        Assert.That(Sd15.PercentToSigma(0), Is.EqualTo(999999999.9));
        Assert.That(Sd15.PercentToSigma(1), Is.EqualTo(0));
    }

    [Test]
    public void ZeroTerminalSnrRescalesTheTable()
    {
        var zsnr = DiscreteModelSampling.VPrediction(zeroTerminalSnr: true);
        Close.Assert(zsnr.SigmaTable.Select(f => (double)f).ToArray(), SamplingFixture.Doubles("model.zsnr_sigmas"), 1e-6, 0, "zsnr");
        Assert.That(zsnr.SigmaMax, Is.GreaterThan(4000));
    }

    [Test]
    public void EpsParameterizationScalesInputAndSubtractsNoise()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.FromArray([1.0, 2.0, -3.0, 4.0], [2, 2, 1, 1]);
        Tensor sigma = Torch.FromArray([2.0, 0.5]);
        Tensor eps = Torch.FromArray([0.5, -1.0, 2.0, 1.0], [2, 2, 1, 1]);
        double[] input = Sd15.CalculateInput(sigma, x).ToArray<double>();
        Close.Assert(input, [1 / Math.Sqrt(5), 2 / Math.Sqrt(5), -3 / Math.Sqrt(1.25), 4 / Math.Sqrt(1.25)], 1e-12, 0, "c_in");
        double[] denoised = Sd15.CalculateDenoised(sigma, eps, x).ToArray<double>();
        Close.Assert(denoised, [1 - 0.5 * 2, 2 + 1.0 * 2, -3 - 2.0 * 0.5, 4 - 1.0 * 0.5], 1e-12, 0, "x0");
    }

    [Test]
    public void VPredictionDenoisedMatchesFormula()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.FromArray([1.5], [1, 1, 1, 1]);
        Tensor v = Torch.FromArray([0.25], [1, 1, 1, 1]);
        Tensor sigma = Torch.FromArray([3.0]);
        double got = Parameterization.VPrediction.CalculateDenoised(sigma, v, x).Item();
        Assert.That(got, Is.EqualTo(1.5 / 10 - 0.25 * 3 / Math.Sqrt(10)).Within(1e-12));
    }

    [Test]
    public void NoiseScalingUsesSqrtOnePlusSigmaSquaredAtMaxSigma()
    {
        using var scope = Torch.NewScope();
        Tensor noise = Torch.FromArray([1.0, -2.0]);
        Tensor latent = Torch.FromArray([0.5, 0.25]);
        double s = Sd15.SigmaMax;
        Assert.That(Sd15.IsMaxDenoise(s), Is.True);
        Assert.That(Sd15.IsMaxDenoise(s * (1 - 5e-6)), Is.True, "isclose with rel 1e-5");
        Assert.That(Sd15.IsMaxDenoise(s * 0.999), Is.False);
        Assert.That(Sd15.IsMaxDenoise(s * 2), Is.True);
        Close.Assert(Sd15.NoiseScaling(s, noise, latent, maxDenoise: true).ToArray<double>(),
            [0.5 + Math.Sqrt(1 + s * s), 0.25 - 2 * Math.Sqrt(1 + s * s)], 1e-12, 0, "max");
        Close.Assert(Sd15.NoiseScaling(3.0, noise, latent).ToArray<double>(), [3.5, -5.75], 1e-12, 0, "plain");
        Close.Assert(Sd15.InverseNoiseScaling(0, latent).ToArray<double>(), [0.5, 0.25], 0, 0, "inverse");
    }

    [Test]
    public void ConstParameterizationInterpolatesAndInverts()
    {
        using var scope = Torch.NewScope();
        Tensor noise = Torch.FromArray([1.0, -2.0]);
        Tensor latent = Torch.FromArray([0.5, 0.25]);
        Parameterization c = Parameterization.Const;
        Close.Assert(c.NoiseScaling(0.75, noise, latent).ToArray<double>(), [0.75 + 0.125, -1.5 + 0.0625], 1e-12, 0, "noise");
        Close.Assert(c.InverseNoiseScaling(0.5, latent).ToArray<double>(), [1.0, 0.5], 1e-12, 0, "inverse");
        Assert.That(c.SigmaFromHalfLogSnr(c.HalfLogSnr(0.3)), Is.EqualTo(0.3).Within(1e-12));
    }

    [Test]
    public void ApplyModelWrapsTheNetworkWithInputScalingAndTimestep()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.FromArray([2.0f, 4.0f], [1, 2, 1, 1]);
        Tensor sigma = Torch.FromArray([(float)Sd15.SigmaMax]);
        double seenTimestep = -1;
        Tensor denoised = Sd15.ApplyModel(x, sigma, (input, t) =>
        {
            seenTimestep = t.Item();
            return Torch.OnesLike(input); // ε = 1
        });
        Assert.That(seenTimestep, Is.EqualTo(999));
        Close.Assert(denoised.To(DType.Float64).ToArray<double>(), [2 - Sd15.SigmaMax, 4 - Sd15.SigmaMax], 1e-6, 0, "x0");
    }

    [Test]
    public void LatentFormatsScaleAndShift()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.FromArray([1.0, -2.0]);
        Close.Assert(LatentFormat.SD15.ProcessIn(x).ToArray<double>(), [0.18215, -0.3643], 1e-12, 0, "sd15 in");
        Close.Assert(LatentFormat.SDXL.ProcessOut(LatentFormat.SDXL.ProcessIn(x)).ToArray<double>(), [1, -2], 1e-12, 0, "sdxl");
        Close.Assert(LatentFormat.Flux.ProcessIn(x).ToArray<double>(), [(1 - 0.1159) * 0.3611, (-2 - 0.1159) * 0.3611], 1e-12, 0, "flux in");
        Close.Assert(LatentFormat.Flux.ProcessOut(LatentFormat.Flux.ProcessIn(x)).ToArray<double>(), [1, -2], 1e-12, 0, "flux");
    }
}
