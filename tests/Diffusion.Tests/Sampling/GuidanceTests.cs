using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

/// <summary>
/// A conditioned toy model: the conditioning is the data mean μ, x₀ ~ N(μ, 1) per element, so
/// x̂₀ = (x + μσ²)/(1 + σ²). It records every call.
/// </summary>
internal sealed class ToyConditionedModel : IConditionedDenoiser<double>
{
    public List<(double Sigma, double[] Conds, long Batch)> Calls { get; } = [];

    /// <summary>Copies of the x each call saw (detached; dispose with the model).</summary>
    public List<Tensor> Inputs { get; } = [];

    public bool KeepInputs { get; init; }

    public Tensor[] Denoise(Tensor x, Tensor sigma, IReadOnlyList<double> conditionings)
    {
        Assert.That(sigma.Shape, Is.EqualTo(new[] { x.Size(0) }));
        double s = sigma.To(Device.Cpu, DType.Float64).ToArray<double>()[0];
        Calls.Add((s, conditionings.ToArray(), x.Size(0)));
        if (KeepInputs) Inputs.Add(x.Clone().DetachFromScope());
        return conditionings.Select(mu => (x + mu * s * s) / (1 + s * s)).ToArray();
    }

    public void DisposeInputs()
    {
        foreach (Tensor t in Inputs) t.Dispose();
        Inputs.Clear();
    }
}

public sealed class GuidanceTests
{
    private static readonly DiscreteModelSampling Sd15 = DiscreteModelSampling.Eps();

    private sealed class ConstantModel : IConditionedDenoiser<double>
    {
        public int Calls;

        public Tensor[] Denoise(Tensor x, Tensor sigma, IReadOnlyList<double> conditionings)
        {
            Calls++;
            return conditionings.Select(c => Torch.FullLike(x, c)).ToArray();
        }
    }

    [Test]
    public void CfgIsUncondPlusScaledDifference()
    {
        using var scope = Torch.NewScope();
        var model = new ConstantModel();
        var guider = new CfgGuider<double>(model, positive: 2.0, negative: 0.5, cfg: 7.5);
        Tensor x = Torch.Zeros([2, 4, 3, 3]);
        double[] v = guider.Predict(x, 3.0).ToArray<float>().Select(f => (double)f).ToArray();
        Assert.That(v, Has.All.EqualTo(0.5 + (2.0 - 0.5) * 7.5).Within(1e-5));
        Assert.That(model.Calls, Is.EqualTo(1), "cond and uncond in one batched call");
    }

    [TestCase(1.0)]
    [TestCase(1.0 + 1e-12)]
    public void CfgOneSkipsTheNegative(double cfg)
    {
        using var scope = Torch.NewScope();
        var model = new ToyConditionedModel();
        var guider = new CfgGuider<double>(model, 0.25, -3, cfg);
        Assert.That(guider.SkipsUncond, Is.True);
        var settings = new KSamplerSettings { Seed = 1, Steps = 10, SamplerName = "euler", SchedulerName = "karras" };
        KSampler.Sample(guider, Sd15, LatentFormat.SD15, Torch.Zeros([1, 4, 8, 8]), settings);
        Assert.That(model.Calls, Has.Count.EqualTo(10));
        Assert.That(model.Calls.Select(c => c.Conds), Has.All.EqualTo(new[] { 0.25 }));
    }

    [Test]
    public void CfgAboveOneEvaluatesBothConditioningsEachStep()
    {
        using var scope = Torch.NewScope();
        var model = new ToyConditionedModel();
        var settings = new KSamplerSettings { Seed = 1, Steps = 6, SamplerName = "heun", SchedulerName = "normal" };
        KSampler.Sample(new CfgGuider<double>(model, 0.25, -3, 1.01), Sd15, LatentFormat.SD15, Torch.Zeros([2, 4, 8, 8]), settings);
        Assert.That(model.Calls, Has.Count.EqualTo(11), "heun: 2 calls per step, 1 on the last");
        Assert.That(model.Calls.Select(c => c.Conds), Has.All.EqualTo(new[] { 0.25, -3.0 }));
        Assert.That(model.Calls.Select(c => c.Batch), Has.All.EqualTo(2));
    }

    [Test]
    public void BasicGuiderUsesOnlyItsConditioning()
    {
        using var scope = Torch.NewScope();
        var model = new ConstantModel();
        double[] v = new BasicGuider<double>(model, 1.5).Predict(Torch.Zeros([1, 4]), 2.0).ToArray<float>().Select(f => (double)f).ToArray();
        Assert.That(v, Has.All.EqualTo(1.5));
    }
}
