using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.ControlNet;

/// <summary>How ControlNet residuals enter sampling: the σ window, strength, chains, batching of cond and uncond.</summary>
public sealed class ControlNetSamplingTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();
    private StableDiffusionCheckpoint _base = null!;
    private LoadedControlNet _net = null!;
    private LoadedControlNet _other = null!;
    private string _dir = null!;

    [OneTimeSetUp]
    public void Load()
    {
        _dir = Path.Combine(Path.GetTempPath(), "cg-cn-sampling-" + Guid.NewGuid().ToString("N"));
        _base = CheckpointLoader.Load(ControlNetFixture.BaseCheckpoint("sd15"), parts: CheckpointParts.Unet);
        _net = ControlNetLoader.Load(ControlNetFixture.Path("sd15"));
        string other = Path.Combine(_dir, "other.safetensors");
        TestControlNets.Write(other, _net.Model.Config, ControlNetKeyLayout.Ldm, seed: 5);
        _other = ControlNetLoader.Load(other);
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        _base.Dispose();
        _net.Dispose();
        _other.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private ControlChain Chain(LoadedControlNet? net = null, double strength = 1.0, double start = 0, double end = 1, ControlChain? previous = null) =>
        new(net ?? _net, null, ControlNetFixture.Io("sd15.hint"), strength, start, end, previous);

    private static bool Active(ControlChain chain, double sigma)
    {
        using var scope = Torch.NewScope();
        return chain.Residuals(ControlNetFixture.Batch("sd15", chain, sigma), Sd15) is not null;
    }

    [Test]
    public void End_percent_half_runs_the_net_on_the_first_9_of_20_karras_steps()
    {
        Sigmas sigmas = Schedules.Karras(20, Sd15.SigmaMin, Sd15.SigmaMax);
        using ControlChain chain = Chain(end: 0.5);
        bool[] active = Enumerable.Range(0, 20).Select(i => Active(chain, sigmas[i])).ToArray();
        Assert.That(active, Is.EqualTo(Enumerable.Range(0, 20).Select(i => i < 9).ToArray()));
    }

    [Test]
    public void A_start_and_end_window_selects_the_steps_between_the_bounds()
    {
        // next-wave.md §T: p2σ(0.25) = 4.086081, p2σ(0.75) = 0.695149 for SD1.5's discrete schedule.
        Sigmas sigmas = Schedules.Karras(20, Sd15.SigmaMin, Sd15.SigmaMax);
        using ControlChain chain = Chain(start: 0.25, end: 0.75);
        bool[] active = Enumerable.Range(0, 20).Select(i => Active(chain, sigmas[i])).ToArray();
        bool[] expected = Enumerable.Range(0, 20).Select(i => sigmas[i] <= 4.086081 && sigmas[i] >= 0.695149).ToArray();
        Assert.That(active, Is.EqualTo(expected));
        Assert.That(expected.Count(a => a), Is.InRange(5, 12), "the window is neither empty nor everything");
    }

    [Test]
    public void The_bounds_themselves_are_inside_the_window()
    {
        using ControlChain chain = Chain(start: 0.25, end: 0.5);
        float start = (float)Sd15.PercentToSigma(0.25), end = (float)Sd15.PercentToSigma(0.5);
        Assert.That(Active(chain, start), Is.True);
        Assert.That(Active(chain, end), Is.True);
        Assert.That(Active(chain, MathF.BitIncrement(start)), Is.False);
        Assert.That(Active(chain, MathF.BitDecrement(end)), Is.False);
    }

    [Test]
    public void Residuals_scale_with_strength()
    {
        using var scope = Torch.NewScope();
        using ControlChain full = Chain(), half = Chain(strength: 0.5);
        ControlResiduals a = full.Residuals(ControlNetFixture.Batch("sd15", full), Sd15)!;
        ControlResiduals b = half.Residuals(ControlNetFixture.Batch("sd15", half), Sd15)!;
        for (int i = 0; i < a.Skips.Count; i++) Assert.That(b.Skips[i]!.ToArray<float>(), Is.EqualTo((a.Skips[i]! * 0.5).ToArray<float>()));
        Assert.That(b.Middle!.ToArray<float>(), Is.EqualTo((a.Middle! * 0.5).ToArray<float>()));
    }

    [Test]
    public void Two_chained_controlnets_sum_and_each_keeps_its_own_window()
    {
        using var scope = Torch.NewScope();
        using ControlChain first = Chain(strength: 0.7);
        using ControlChain second = Chain(_other, strength: 1.3, end: 0.5, previous: first.Share());
        using ControlChain secondAlone = Chain(_other, strength: 1.3, end: 0.5);
        ControlResiduals a = first.Residuals(ControlNetFixture.Batch("sd15", first, sigma: 3.0), Sd15)!;
        ControlResiduals b = secondAlone.Residuals(ControlNetFixture.Batch("sd15", secondAlone, sigma: 3.0), Sd15)!;
        ControlResiduals sum = second.Residuals(ControlNetFixture.Batch("sd15", second, sigma: 3.0), Sd15)!;
        for (int i = 0; i < a.Skips.Count; i++)
            Assert.That(sum.Skips[i]!.ToArray<float>(), Is.EqualTo((a.Skips[i]! + b.Skips[i]!).ToArray<float>()), $"skip {i}");
        Assert.That(sum.Middle!.ToArray<float>(), Is.EqualTo((a.Middle! + b.Middle!).ToArray<float>()));

        // Below p2σ(0.5) only the first net runs.
        ControlResiduals late = second.Residuals(ControlNetFixture.Batch("sd15", second, sigma: 0.5), Sd15)!;
        ControlResiduals lateFirst = first.Residuals(ControlNetFixture.Batch("sd15", first, sigma: 0.5), Sd15)!;
        Assert.That(late.Middle!.ToArray<float>(), Is.EqualTo(lateFirst.Middle!.ToArray<float>()));
    }

    [Test]
    public void One_hint_per_chunk_is_repeated_for_cond_and_uncond()
    {
        using var scope = Torch.NewScope();
        Tensor hint = Torch.Arange(0, 2).Reshape(2, 1, 1, 1);
        Assert.That(ControlChain.BroadcastToBatch(hint, 4, 2).Flatten().ToArray<float>(), Is.EqualTo(new float[] { 0, 1, 0, 1 }));
        Assert.That(ControlChain.BroadcastToBatch(hint, 6, 2).Flatten().ToArray<float>(), Is.EqualTo(new float[] { 0, 1, 0, 0, 1, 0 }));
        Assert.That(ControlChain.BroadcastToBatch(hint.Narrow(0, 0, 1), 4, 2).Size(0), Is.EqualTo(1), "a single hint broadcasts");
    }

    private (int Calls, Tensor[] Outputs) Denoise(ConditioningEntry positive, ConditioningEntry negative)
    {
        var denoiser = new CondBatchDenoiser(() => _base.Unet!, Sd15, [new ControlNetContributor(_base.Unet!.Config, Sd15)]);
        Tensor x = ControlNetFixture.Io("sd15.x").Narrow(0, 0, 1);
        Tensor[] outputs = denoiser.Denoise(x, Torch.Full([1], 3.0, DType.Float32, Device.Cpu), [[positive], [negative]]);
        return (denoiser.NetworkCalls, outputs);
    }

    [Test]
    public void Cond_and_uncond_with_the_same_chain_share_one_unet_call_and_differ_from_without()
    {
        using var scope = Torch.NewScope();
        Tensor context = ControlNetFixture.Io("sd15.context");
        using ControlChain chain = Chain();
        var pos = new ConditioningEntry(context.Narrow(0, 0, 1), null, Control: chain);
        var neg = new ConditioningEntry(context.Narrow(0, 1, 1), null, Control: chain);
        var (calls, controlled) = Denoise(pos, neg);
        Assert.That(calls, Is.EqualTo(1));

        var (separate, mixed) = Denoise(pos, neg with { Control = null });
        Assert.That(separate, Is.EqualTo(2), "an uncond without the chain cannot join the cond's call");
        Models.TensorCompare.Close(mixed[0], controlled[0], 1e-5, "the cond alone (batch 1 instead of 2)");
        Assert.That(mixed[1].ToArray<float>(), Is.Not.EqualTo(controlled[1].ToArray<float>()));

        var (oldCalls, old) = Denoise(pos with { ControlApplyToUncond = true }, neg with { Control = null });
        Assert.That(oldCalls, Is.EqualTo(1), "the old ControlNetApply's control is copied onto the uncond");
        Assert.That(old[1].ToArray<float>(), Is.EqualTo(controlled[1].ToArray<float>()));
    }

    [Test]
    public void An_sd15_controlnet_on_an_sdxl_unet_is_refused_naming_both()
    {
        using ControlChain chain = Chain();
        var contributor = new ControlNetContributor(TinySizes.SdxlConfig().Unet!, Sd15);
        using var scope = Torch.NewScope();
        var e = Assert.Throws<CheckpointLoadException>(() => contributor.Contribute(ControlNetFixture.Batch("sd15", chain), new UnetCallBuilder()))!;
        Assert.That(e.Message, Does.Contain("SD1.x").And.Contain("SDXL").And.Contain("controlnet_sd15_tiny"));
    }
}
