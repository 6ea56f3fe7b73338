using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

public sealed class KSamplerTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();
    private static readonly long[] Shape = [1, 4, 8, 8];

    private static Tensor Latent()
    {
        using var scope = Torch.NewScope();
        return (Torch.Randn(Shape, 555UL) * 3.0).MoveToOuterScope();
    }

    [Test]
    public void EmptyLatentRunMatchesTheHandComposedPipeline()
    {
        using var scope = Torch.NewScope();
        var model = new ToyConditionedModel();
        var guider = new CfgGuider<double>(model, 0.5, -0.5, 4.0);
        var settings = new KSamplerSettings { Seed = 77, Steps = 10, SamplerName = "dpmpp_2m", SchedulerName = "karras" };
        Tensor result = KSampler.Sample(guider, Sd15, LatentFormat.SD15, Torch.Zeros(Shape), settings);

        Sigmas sigmas = Schedulers.Calculate("karras", Sd15, 10);
        Tensor x = Noise.Prepare(Shape, 77) * Math.Sqrt(1 + sigmas.First * sigmas.First); // σ₀ = σ_max: max-denoise
        Tensor expected = Samplers.DpmPP2M(guider.Predict, x, sigmas, new SamplerContext { ModelSampling = Sd15 }) / 0.18215;
        Close.Assert(result, expected, 1e-6, 1e-6);
        // The all-zero latent is not scaled in: the first call sees pure noise.
        Assert.That(model.Calls[0].Sigma, Is.EqualTo(sigmas.First).Within(1e-5));
    }

    [Test]
    public void Img2ImgNoisesTheScaledLatentAtTheFirstSigma()
    {
        using var scope = Torch.NewScope();
        Tensor latent = Latent();
        var model = new ToyConditionedModel { KeepInputs = true };
        var settings = new KSamplerSettings { Seed = 3, Steps = 8, SamplerName = "euler", SchedulerName = "normal", Denoise = 0.5 };
        KSampler.Sample(new CfgGuider<double>(model, 0, 0, 1), Sd15, LatentFormat.SD15, latent, settings);
        Sigmas sigmas = Schedulers.ForKSampler(Sd15, "normal", "euler", 8, 0.5);
        Assert.That(sigmas.First, Is.LessThan(Sd15.SigmaMax));
        Tensor expected = (latent * 0.18215).Add(Noise.Prepare(Shape, 3), sigmas.First);
        Close.Assert(model.Inputs[0], expected, 1e-6, 1e-6);
        Assert.That(model.Calls, Has.Count.EqualTo(8));
        model.DisposeInputs();
    }

    [Test]
    public void InpaintingKeepsTheUnmaskedLatent([Values("euler", "dpmpp_2m", "euler_ancestral", "ddim", "uni_pc")] string sampler)
    {
        using var scope = Torch.NewScope();
        Tensor latent = Latent();
        // A pixel-space mask (64 × 64): regenerate the left half, keep the right half.
        Tensor mask = Torch.Cat([Torch.Ones([1, 64, 32]), Torch.Zeros([1, 64, 32])], 2);
        var model = new ToyConditionedModel { KeepInputs = true };
        var settings = new KSamplerSettings { Seed = 11, Steps = 10, SamplerName = sampler, SchedulerName = "karras" };
        Tensor result = KSampler.Sample(new CfgGuider<double>(model, 2.0, 0, 3.0), Sd15, LatentFormat.SD15, latent, settings, noiseMask: mask);

        Tensor right(Tensor t) => t.Narrow(3, 4, 4);
        Tensor left(Tensor t) => t.Narrow(3, 0, 4);
        Tensor latentIn = latent * 0.18215;
        Tensor noise = sampler == "ddim" ? Torch.Randn(Shape, 12UL) : Noise.Prepare(Shape, 11);
        for (int i = 0; i < model.Calls.Count; i++)
        {
            // outside the mask the model always sees the input latent noised to the current σ
            Tensor expected = Sd15.NoiseScaling(model.Calls[i].Sigma, noise, latentIn);
            Close.Assert(right(model.Inputs[i]), right(expected), 1e-5, 1e-5, $"call {i}");
        }
        // UniPC's last step lands at σ = 0.001, not 0 (as in ComfyUI), so its kept region carries noise · 0.001 / 0.18215.
        double tolerance = sampler == "uni_pc" ? 0.03 : 1e-5;
        Close.Assert(right(result), right(latent), 1e-5, tolerance, "kept region");
        Assert.That(left(result).Sub(left(latent)).Abs().Max().Item(), Is.GreaterThan(0.1), "regenerated region changed");
        model.DisposeInputs();
    }

    [Test]
    public void MaskIsResizedAndRepeatedOverChannelsAndBatch()
    {
        using var scope = Torch.NewScope();
        Tensor mask = Torch.Cat([Torch.Ones([64, 32]), Torch.Zeros([64, 32])], 1);
        Tensor m = GuidedSampling.PrepareMask(mask, [2, 4, 8, 8]);
        Assert.That(m.Shape, Is.EqualTo(new long[] { 2, 4, 8, 8 }));
        float[] row = m.Select(0, 1).Select(0, 2).Select(0, 5).ToArray<float>();
        Assert.That(row, Is.EqualTo(new float[] { 1, 1, 1, 1, 0, 0, 0, 0 }));
    }

    [Test]
    public void NothingToDoReturnsTheLatentUnchanged()
    {
        using var scope = Torch.NewScope();
        Tensor latent = Latent();
        var model = new ToyConditionedModel();
        var guider = new CfgGuider<double>(model, 0, 0, 7);
        var zeroDenoise = new KSamplerSettings { Steps = 10, Denoise = 0 };
        Close.Assert(KSampler.Sample(guider, Sd15, LatentFormat.SD15, latent, zeroDenoise), latent, 0, 0, "denoise 0");
        var pastTheEnd = new KSamplerSettings { Steps = 10, StartStep = 10 };
        Close.Assert(KSampler.Sample(guider, Sd15, LatentFormat.SD15, latent, pastTheEnd), latent, 0, 0, "start at the end");
        Assert.That(model.Calls, Is.Empty);
    }

    [Test]
    public void LeftoverNoiseAndContinuationSplitARun()
    {
        using var scope = Torch.NewScope();
        var model = new ToyConditionedModel();
        var guider = new CfgGuider<double>(model, 0.3, 0, 1);
        var first = new KSamplerSettings { Seed = 5, Steps = 10, SchedulerName = "karras", EndStep = 4, ReturnWithLeftoverNoise = true };
        var second = new KSamplerSettings { Seed = 5, Steps = 10, SchedulerName = "karras", StartStep = 4, AddNoise = false };
        Tensor half = KSampler.Sample(guider, Sd15, LatentFormat.SD15, Torch.Zeros(Shape), first);
        Tensor split = KSampler.Sample(guider, Sd15, LatentFormat.SD15, half, second);
        Tensor whole = KSampler.Sample(guider, Sd15, LatentFormat.SD15, Torch.Zeros(Shape),
            new KSamplerSettings { Seed = 5, Steps = 10, SchedulerName = "karras" });
        // euler is deterministic: two halves make the whole (ComfyUI's two-stage refiner workflow)
        Close.Assert(split, whole, 1e-4, 1e-4);
    }

    [Test]
    public void CustomSamplingReturnsTheLastDenoised()
    {
        using var scope = Torch.NewScope();
        var model = new ToyConditionedModel();
        Sigmas sigmas = Schedulers.Calculate("exponential", Sd15, 6);
        using SamplingResult r = GuidedSampling.Sample(new BasicGuider<double>(model, 1.0), Sd15, LatentFormat.SD15,
            Samplers.Get("euler"), sigmas, Noise.Prepare(Shape, 2), Torch.Zeros(Shape), 2);
        // euler's last step to σ = 0 lands on that x̂₀
        Close.Assert(r.Samples, r.Denoised, 1e-5, 1e-5);
        Assert.That(r.Denoised.Shape, Is.EqualTo(Shape));
    }

    [Test]
    public void EmptyLatentIsWidenedToTheModelsChannels()
    {
        using var scope = Torch.NewScope();
        var model = new ToyConditionedModel();
        var settings = new KSamplerSettings { Seed = 1, Steps = 2 };
        Tensor result = KSampler.Sample(new CfgGuider<double>(model, 0, 0, 1), Sd15, LatentFormat.Flux, Torch.Zeros(Shape), settings);
        Assert.That(result.Shape, Is.EqualTo(new long[] { 1, 16, 8, 8 }));
    }

    [Test]
    public void ProgressCancellationAndLeaks()
    {
        using var toyScope = Torch.NewScope();
        Tensor latent = Latent();
        var model = new ToyConditionedModel();
        var guider = new CfgGuider<double>(model, 0.5, 0, 5);
        long before = Tensor.LiveCount;
        var steps = new List<int>();
        var settings = new KSamplerSettings { Seed = 9, Steps = 12, SamplerName = "dpmpp_2m_sde", SchedulerName = "karras", Denoise = 0.7 };
        Tensor result = KSampler.Sample(guider, Sd15, LatentFormat.SD15, latent, settings, callback: (i, total, _, _) =>
        {
            Assert.That(total, Is.EqualTo(12));
            steps.Add(i);
        });
        Assert.That(steps, Is.EqualTo(Enumerable.Range(0, 12)));
        Assert.That(Tensor.LiveCount, Is.EqualTo(before + 1));
        result.Dispose();

        Assert.Throws<OperationCanceledException>(() => KSampler.Sample(guider, Sd15, LatentFormat.SD15, latent, settings,
            noiseMask: Torch.Ones([1, 8, 8]), callback: (i, _, _, _) => { if (i == 3) throw new OperationCanceledException(); }));
        // the mask made above is the only new tensor
        Assert.That(Tensor.LiveCount, Is.EqualTo(before + 1));
    }
}

/// <summary>Whole KSampler runs against the fixture's independent float32 Python pipeline (ComfyUI semantics).</summary>
public sealed class KSamplerPipelineTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();

    [Test]
    public void TextToImageWithAncestralNoiseMatchesThePythonPipeline()
    {
        using var scope = Torch.NewScope();
        var guider = new CfgGuider<double>(new ToyConditionedModel(), 0.5, -0.5, 5.0);
        var settings = new KSamplerSettings { Seed = 42, Steps = 10, SamplerName = "euler_ancestral", SchedulerName = "karras" };
        Tensor result = KSampler.Sample(guider, Sd15, LatentFormat.SD15, Torch.Zeros([1, 4, 8, 8]), settings);
        Close.Assert(result, SamplingFixture.Tensor("pipeline.txt2img"), 1e-5, 2e-5);
    }

    [Test]
    public void InpaintingImageToImageMatchesThePythonPipeline()
    {
        using var scope = Torch.NewScope();
        Tensor latent = SamplingFixture.Tensor("pipeline.inpaint.latent");
        Tensor mask = Torch.Cat([Torch.Ones([1, 64, 32]), Torch.Zeros([1, 64, 32])], 2);
        var guider = new CfgGuider<double>(new ToyConditionedModel(), 1.0, 0.0, 3.0);
        var settings = new KSamplerSettings { Seed = 8, Steps = 10, SamplerName = "dpmpp_2m", SchedulerName = "normal", Denoise = 0.6 };
        Tensor result = KSampler.Sample(guider, Sd15, LatentFormat.SD15, latent, settings, noiseMask: mask);
        Close.Assert(result, SamplingFixture.Tensor("pipeline.inpaint"), 1e-5, 2e-5);
    }
}
