using CharacterGen.Tensors.Optim;
using static CharacterGen.Tensors.Tests.GradientCheck;

namespace CharacterGen.Tensors.Tests;

/// <summary>
/// Gradients of every op the UNet, CLIP and VAE run, checked against finite differences in float64; they are what LoRA
/// and full training backpropagate through.
/// </summary>
public sealed class GradientTests
{
    [Test]
    public void LinearAndMatmul()
    {
        using var scope = Torch.NewScope();
        Check("linear", a => F.Linear(a[0], a[1], a[2]), Randn(1, 2, 3, 4), Randn(2, 5, 4), Randn(3, 5));
        Check("bmm", a => F.Bmm(a[0], a[1]), Randn(4, 2, 3, 4), Randn(5, 2, 4, 3));
        Check("matmul", a => F.Matmul(a[0], a[1]), Randn(6, 3, 4), Randn(7, 4, 2));
    }

    [Test]
    public void Convolutions()
    {
        using var scope = Torch.NewScope();
        Check("conv3x3 pad 1", a => F.Conv2d(a[0], a[1], a[2], padding: 1), Randn(1, 1, 2, 5, 5), Randn(2, 3, 2, 3, 3), Randn(3, 3));
        Check("conv stride 2 (Downsample)", a => F.Conv2d(a[0], a[1], null, 2, 1), Randn(4, 1, 2, 6, 6), Randn(5, 2, 2, 3, 3));
        Check("conv1x1", a => F.Conv2d(a[0], a[1], a[2]), Randn(6, 2, 3, 3, 3), Randn(7, 4, 3, 1, 1), Randn(8, 4));
        Check("avg pool", a => F.AvgPool2d(a[0], 2, 2), Randn(9, 1, 2, 4, 4));
    }

    [Test]
    public void Norms()
    {
        using var scope = Torch.NewScope();
        Check("group norm", a => F.GroupNorm(a[0], 2, a[1], a[2], 1e-5), Randn(1, 2, 4, 3, 3), Randn(2, 4), Randn(3, 4));
        Check("layer norm", a => F.LayerNorm(a[0], [5], a[1], a[2], 1e-5), Randn(4, 2, 3, 5), Randn(5, 5), Randn(6, 5));
    }

    [Test]
    public void Activations()
    {
        using var scope = Torch.NewScope();
        Tensor x = Randn(1, 3, 7);
        Check("silu", a => F.Silu(a[0]), x);
        Check("gelu", a => F.Gelu(a[0]), x);
        Check("gelu tanh", a => F.Gelu(a[0], tanhApproximation: true), x);
        Check("quick gelu (CLIP)", a => a[0] * (a[0] * 1.702).Sigmoid(), x);
        Check("softmax", a => F.Softmax(a[0], -1), x);
        Check("exp, sqrt, tanh", a => a[0].Exp() + (a[0].Square() + 1).Sqrt() + a[0].Tanh(), x);
    }

    [Test]
    public void Attention()
    {
        using var scope = Torch.NewScope();
        Check("sdpa", a => F.ScaledDotProductAttention(a[0], a[1], a[2]), Randn(1, 1, 2, 4, 3), Randn(2, 1, 2, 5, 3), Randn(3, 1, 2, 5, 3));
        Check("causal sdpa (CLIP)", a => F.ScaledDotProductAttention(a[0], a[1], a[2], causal: true), Randn(4, 1, 1, 4, 3), Randn(5, 1, 1, 4, 3), Randn(6, 1, 1, 4, 3));
    }

    [Test]
    public void ShapesResamplingAndLookups()
    {
        using var scope = Torch.NewScope();
        Check("nearest ×2 (Upsample)", a => F.Interpolate(a[0], 2.0), Randn(1, 1, 2, 3, 3));
        Check("bilinear", a => F.Interpolate(a[0], 5, 4, InterpolationMode.Bilinear), Randn(2, 1, 1, 3, 3));
        Check("pad", a => F.Pad(a[0], [0, 1, 0, 1]), Randn(3, 1, 1, 3, 3));
        Check("cat, chunk, transpose, reshape", a =>
        {
            Tensor[] parts = Torch.Cat([a[0], a[1]], 1).Chunk(2, -1);
            return (parts[0] * F.Gelu(parts[1])).Transpose(1, 2).Reshape(-1);
        }, Randn(4, 2, 3, 4), Randn(5, 2, 2, 4));
        Check("index select (embedding)", a => a[0].IndexSelect(0, Torch.FromArray<long>([2, 0, 2])), Randn(6, 4, 3));
        Check("mean, var, mse", a => a[0].Mean() + a[0].Var([-1]).Sum() + F.MseLoss(a[0], a[1]), Randn(7, 3, 4), Randn(8, 3, 4));
    }

    [Test]
    public void ClippingScalesToTheGlobalNormAndReportsIt()
    {
        using var scope = Torch.NewScope();
        Tensor a = Torch.Zeros([1]), b = Torch.Zeros([1]);
        a.RequiresGrad = b.RequiresGrad = true;
        (a * 3 + b * 4).Sum().Backward();
        Assert.That(GradientClipping.ClipByGlobalNorm([a, b], 10), Is.EqualTo(5).Within(1e-9));
        Assert.That(a.Grad!.Item(), Is.EqualTo(3), "under the limit nothing changes");
        Assert.That(GradientClipping.ClipByGlobalNorm([a, b], 1), Is.EqualTo(5).Within(1e-9));
        Assert.That(a.Grad!.Item(), Is.EqualTo(0.6).Within(1e-6));
        Assert.That(b.Grad!.Item(), Is.EqualTo(0.8).Within(1e-6));
    }

    [Test]
    public void LearningRateSchedules()
    {
        var constant = new LearningRateSchedule(1e-3, 100);
        Assert.That(constant.RateAt(0), Is.EqualTo(1e-3));
        Assert.That(constant.RateAt(99), Is.EqualTo(1e-3));
        var cosine = new LearningRateSchedule(1.0, 110, LearningRateDecay.Cosine, WarmupSteps: 10);
        Assert.That(cosine.RateAt(0), Is.EqualTo(0));
        Assert.That(cosine.RateAt(5), Is.EqualTo(0.5).Within(1e-12), "linear warm-up");
        Assert.That(cosine.RateAt(10), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(cosine.RateAt(60), Is.EqualTo(0.5).Within(1e-12), "half-way down the cosine");
        Assert.That(cosine.RateAt(110), Is.EqualTo(0).Within(1e-12));
        var linear = new LearningRateSchedule(2.0, 4, LearningRateDecay.Linear);
        Assert.That(Enumerable.Range(0, 5).Select(s => linear.RateAt(s)), Is.EqualTo(new[] { 2.0, 1.5, 1.0, 0.5, 0.0 }));
    }

    [Test]
    public void AdamWStateRestoredIntoANewOptimizerContinuesExactly()
    {
        using var scope = Torch.NewScope();
        Tensor target = Randn(3, 6).To(DType.Float32);
        Tensor Loss(Tensor p) => ((p - target).Square() * p.Sigmoid()).Sum();
        Tensor straight = Torch.Zeros([6]);
        straight.RequiresGrad = true;
        using (var opt = new AdamW([straight], lr: 0.1))
            for (int i = 0; i < 4; i++)
            {
                opt.ZeroGrad();
                Loss(straight).Backward();
                opt.Step();
            }

        Tensor resumed = Torch.Zeros([6]);
        resumed.RequiresGrad = true;
        long steps;
        Tensor m, v;
        using (var first = new AdamW([resumed], lr: 0.1))
        {
            for (int i = 0; i < 2; i++)
            {
                first.ZeroGrad();
                Loss(resumed).Backward();
                first.Step();
            }
            (steps, m, v) = (first.StepCount, first.ExpAvg[0].Clone(), first.ExpAvgSq[0].Clone());
        }
        using var second = new AdamW([resumed], lr: 0.1);
        second.LoadState(steps, [m], [v]);
        for (int i = 0; i < 2; i++)
        {
            second.ZeroGrad();
            Loss(resumed).Backward();
            second.Step();
        }
        Assert.That(resumed.Detach().ToArray<float>(), Is.EqualTo(straight.Detach().ToArray<float>()));
        Assert.That(second.StepCount, Is.EqualTo(4));
    }
}
