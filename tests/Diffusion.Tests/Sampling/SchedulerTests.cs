using CharacterGen.Diffusion.Sampling;

namespace CharacterGen.Diffusion.Tests.Sampling;

public sealed class SchedulerTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();

    // shared/reference/comfyui.md "Test vectors": SD1.5, 10 steps.
    [TestCase("karras", new[] { 14.614641, 9.102928, 5.478392, 3.168603, 1.749417, 0.914072, 0.446918, 0.201398, 0.081910, 0.029167, 0 })]
    [TestCase("exponential", new[] { 14.614640, 7.324869, 3.671231, 1.840024, 0.922222, 0.462218, 0.231664, 0.116110, 0.058195, 0.029167, 0 })]
    [TestCase("normal", new[] { 14.614640, 7.839883, 4.609174, 2.918307, 1.950161, 1.344928, 0.932358, 0.624977, 0.368658, 0.029167, 0 })]
    [TestCase("sgm_uniform", new[] { 14.614640, 8.307171, 5.092408, 3.325069, 2.279731, 1.615580, 1.162865, 0.831884, 0.571189, 0.343705, 0 })]
    [TestCase("simple", new[] { 14.614641, 8.302803, 5.087763, 3.321083, 2.276463, 1.612886, 1.160578, 0.829860, 0.569285, 0.341674, 0 })]
    public void TenStepSchedulesMatchTheReferenceTable(string scheduler, double[] expected) =>
        Close.Assert(Schedulers.Calculate(scheduler, Sd15, 10).ToArray(), expected, 1e-5, 1e-6, scheduler);

    [Test]
    public void EveryScheduleMatchesThePythonReference(
        [ValueSource(typeof(Schedulers), nameof(Schedulers.AllNames))] string scheduler, [Values(10, 20, 3)] int steps) =>
        Close.Assert(Schedulers.Calculate(scheduler, Sd15, steps).ToArray(), SamplingFixture.Doubles($"sched.{scheduler}.{steps}"),
            1e-5, 1e-7, $"{scheduler} {steps}");

    [Test]
    public void EveryScheduleHasStepsPlusOneValuesEndingInZero([ValueSource(typeof(Schedulers), nameof(Schedulers.AllNames))] string scheduler)
    {
        // 8 divides 1000, so ddim_uniform has no extra value either
        Sigmas sigmas = Schedulers.Calculate(scheduler, Sd15, 8);
        Assert.That(sigmas.Count, Is.EqualTo(9));
        Assert.That(sigmas.Last, Is.EqualTo(0));
        Assert.That(sigmas.ToArray(), Is.Ordered.Descending);
    }

    [Test]
    public void DdimUniformKeepsComfyUIsExtraValueWhenStepsDoNotDivideTheTable()
    {
        // 1000 // 7 = 142: indices 1, 143, …, 995 are 8 values, then 0
        Assert.That(Schedulers.Calculate("ddim_uniform", Sd15, 7).Count, Is.EqualTo(9));
    }

    [Test]
    public void BetaSchedulerDropsRepeatedTimesteps()
    {
        // Many steps map several quantiles near 0.5 onto the same timestep; ComfyUI keeps one σ for each.
        Sigmas sigmas = Schedulers.Calculate("beta", Sd15, 1500);
        double[] v = sigmas.ToArray();
        Assert.That(v.Length, Is.LessThan(1501));
        for (int i = 1; i < v.Length; i++) Assert.That(v[i], Is.LessThan(v[i - 1]));
    }

    [Test]
    public void DenoiseBelowOneKeepsTheTailOfALongerSchedule()
    {
        Close.Assert(Schedulers.ForKSampler(Sd15, "karras", "euler", 20, 0.6).ToArray(),
            SamplingFixture.Doubles("ksampler.karras_euler_20_d0.6"), 1e-5, 1e-7, "karras");
        Close.Assert(Schedulers.ForKSampler(Sd15, "normal", "euler", 20, 0.6).ToArray(),
            SamplingFixture.Doubles("ksampler.normal_euler_20_d0.6"), 1e-5, 1e-7, "normal");
        Close.Assert(Schedulers.ForBasicScheduler(Sd15, "karras", 20, 0.6).ToArray(),
            SamplingFixture.Doubles("ksampler.basic_karras_20_d0.6"), 1e-5, 1e-7, "basic");
        Assert.That(Schedulers.ForKSampler(Sd15, "karras", "euler", 20, 0.6).Count, Is.EqualTo(21));
        // int(20 / 0.6) = 33 steps, of which the last 20 are kept
        Assert.That(Schedulers.ForKSampler(Sd15, "karras", "euler", 20, 0.6).First,
            Is.EqualTo(Schedulers.Calculate("karras", Sd15, 33)[13]).Within(1e-6));
    }

    [Test]
    public void DenoiseZeroGivesNoSigmasAndNearOneIsFull()
    {
        Assert.That(Schedulers.ForKSampler(Sd15, "karras", "euler", 20, 0).Count, Is.EqualTo(0));
        Assert.That(Schedulers.ForBasicScheduler(Sd15, "karras", 20, -1).Count, Is.EqualTo(0));
        Assert.That(Schedulers.ForKSampler(Sd15, "karras", "euler", 20, 0.99995).ToArray(),
            Is.EqualTo(Schedulers.Calculate("karras", Sd15, 20).ToArray()));
    }

    [Test]
    public void SecondOrderSamplersDropThePenultimateSigma()
    {
        Close.Assert(Schedulers.ForKSampler(Sd15, "simple", "dpm_2", 10).ToArray(),
            SamplingFixture.Doubles("ksampler.simple_dpm_2_10"), 1e-5, 1e-7, "dpm_2");
        Close.Assert(Schedulers.ForKSampler(Sd15, "karras", "uni_pc", 10, 0.5).ToArray(),
            SamplingFixture.Doubles("ksampler.karras_uni_pc_10_d0.5"), 1e-5, 1e-7, "uni_pc");
        Assert.That(Schedulers.ForKSampler(Sd15, "simple", "dpm_2", 10).Count, Is.EqualTo(11));
    }

    [Test]
    public void AdvancedStepWindowSlicesTheSchedule()
    {
        Sigmas full = Schedulers.ForKSampler(Sd15, "karras", "euler", 20);
        Close.Assert(Schedulers.ApplyStepWindow(full, 5, 12, true)!.ToArray(),
            SamplingFixture.Doubles("advanced.karras_20_s5_e12_full"), 1e-5, 1e-7, "full");
        Close.Assert(Schedulers.ApplyStepWindow(full, 5, 12, false)!.ToArray(),
            SamplingFixture.Doubles("advanced.karras_20_s5_e12_leftover"), 1e-5, 1e-7, "leftover");
        Close.Assert(Schedulers.ApplyStepWindow(full, 0, 10, false)!.ToArray(),
            SamplingFixture.Doubles("advanced.karras_20_s0_e10_leftover"), 1e-5, 1e-7, "first half");
        Close.Assert(Schedulers.ApplyStepWindow(full, 10, 10000, true)!.ToArray(),
            SamplingFixture.Doubles("advanced.karras_20_s10_eNone"), 1e-5, 1e-7, "second half");
        Assert.That(Schedulers.ApplyStepWindow(full, 20, 10000, true), Is.Null, "start at the last step: latent unchanged");
        Assert.That(Schedulers.ApplyStepWindow(full, null, null, true)!.ToArray(), Is.EqualTo(full.ToArray()));
    }

    [Test]
    public void KSamplerSettingsCombineScheduleAndWindow()
    {
        var settings = new KSamplerSettings { Steps = 20, SchedulerName = "karras", SamplerName = "euler", StartStep = 5, EndStep = 12 };
        Close.Assert(KSampler.CalculateSigmas(Sd15, settings)!.ToArray(), SamplingFixture.Doubles("advanced.karras_20_s5_e12_full"), 1e-5, 1e-7);
        settings = settings with { ReturnWithLeftoverNoise = true };
        Close.Assert(KSampler.CalculateSigmas(Sd15, settings)!.ToArray(), SamplingFixture.Doubles("advanced.karras_20_s5_e12_leftover"), 1e-5, 1e-7);
    }

    [Test]
    public void NamesFollowComfyUIOrder()
    {
        Assert.That(Schedulers.AllNames, Is.EqualTo(new[]
            { "simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal" }));
        Assert.That(Samplers.AllNames, Has.Count.EqualTo(44));
        Assert.That(Samplers.AllNames[0], Is.EqualTo("euler"));
        Assert.That(Samplers.AllNames.TakeLast(3), Is.EqualTo(new[] { "ddim", "uni_pc", "uni_pc_bh2" }));
        Assert.That(Samplers.ImplementedNames, Is.SubsetOf(Samplers.AllNames));
        Assert.That(Samplers.ImplementedNames, Is.SupersetOf(new[]
        {
            "euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m", "dpmpp_2s_ancestral",
            "dpmpp_sde", "dpmpp_2m_sde", "ddim", "uni_pc", "uni_pc_bh2", "lcm",
        }));
        Assert.Throws<ArgumentException>(() => Samplers.Get("dpm_fast"));
        Assert.Throws<ArgumentException>(() => Schedulers.Calculate("nope", Sd15, 10));
    }
}
