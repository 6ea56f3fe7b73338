using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Flux;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>The tiny FLUX transformer driven by the existing samplers through <see cref="FluxDenoiser"/>.</summary>
public sealed class FluxSamplingTests
{
    private static string CheckpointPath => FixtureCheckpoint.Path("flux_tiny.weights.json");

    private static FluxConditioning Cond(ulong seed, double? guidance)
    {
        using var g = new Generator(seed);
        return new FluxConditioning(Torch.Randn([1, 5, 32], g), Torch.Randn([1, 24], g), guidance);
    }

    [Test]
    public void DenoisedIsXMinusSigmaTimesTheVelocity()
    {
        using var scope = Torch.NewScope();
        using FluxModel model = FluxCheckpointLoader.Load(CheckpointPath);
        var denoiser = new FluxDenoiser(model, new FluxModelSampling());
        FluxConditioning c = Cond(1, 3.5);
        using var gen = new Generator(7);
        Tensor x = Torch.Randn([1, 16, 4, 6], gen);
        Tensor sigma = Torch.Full([1], 0.75);
        Tensor denoised = denoiser.Denoise(x, sigma, [c])[0];
        Tensor v = model.Forward(x, sigma, c.Context, c.Pooled, Torch.Full([1], 3.5));
        TensorCompare.Close(denoised, x - v * 0.75, 1e-6, "x − σ·v");
    }

    [Test]
    public void GuidanceChangesTheOutputAndNullSkipsIt()
    {
        using var scope = Torch.NewScope();
        using FluxModel model = FluxCheckpointLoader.Load(CheckpointPath);
        var denoiser = new FluxDenoiser(model, new FluxModelSampling());
        using var gen = new Generator(3);
        Tensor x = Torch.Randn([1, 16, 4, 4], gen);
        Tensor sigma = Torch.Full([1], 0.5);
        Tensor[] outs = denoiser.Denoise(x, sigma, [Cond(1, 3.5), Cond(1, 1.0), Cond(1, null)]);
        Assert.That((outs[0] - outs[1]).Abs().Max().Item(), Is.GreaterThan(1e-4));
        Assert.That((outs[0] - outs[2]).Abs().Max().Item(), Is.GreaterThan(1e-4));
    }

    [Test]
    public void EulerSimpleWithBasicGuiderIsDeterministicAndLeaksNothing()
    {
        using FluxModel model = FluxCheckpointLoader.Load(CheckpointPath);
        using var conds = Torch.NewScope();
        var denoiser = new FluxDenoiser(model, new FluxModelSampling(FluxModelSampling.ShiftForSize(48, 32)));
        var guider = new BasicGuider<FluxConditioning>(denoiser, Cond(11, 3.5));
        var settings = new KSamplerSettings { Seed = 42, Steps = 4, SamplerName = "euler", SchedulerName = "simple" };
        Tensor empty = Torch.Zeros([1, 16, 4, 6]);

        float[] Run()
        {
            using var scope = Torch.NewScope();
            return KSampler.Sample(guider, denoiser.ModelSampling, LatentFormat.Flux, empty, settings).ToArray<float>();
        }

        float[] first = Run();
        long live = Tensor.LiveCount;
        float[] second = Run();
        Assert.That(Tensor.LiveCount, Is.EqualTo(live), "no tensors left behind by a sampling run");
        Assert.That(second, Is.EqualTo(first), "same seed, same latent");
        Assert.That(first.All(float.IsFinite), Is.True);
        Assert.That(first.Any(v => v != 0), Is.True);
    }
}
