namespace CharacterGen.Tensors.Tests;

/// <summary>Gradients and the AdamW update that LoRA training will use.</summary>
public sealed class AutogradTests
{
    [Test]
    public void FittingALineWithAdamWConverges()
    {
        using var scope = Torch.NewScope();
        using var g = new Generator(0);
        Tensor x = Torch.Rand([256, 1], g) * 4 - 2;
        Tensor y = x * 3 + 2;
        Tensor w = Torch.Zeros([1, 1]), b = Torch.Zeros([1]);
        w.RequiresGrad = true;
        b.RequiresGrad = true;
        using var opt = new AdamW([w, b], lr: 0.05, weightDecay: 0);
        for (int step = 0; step < 1500; step++)
        {
            using var stepScope = Torch.NewScope();
            opt.ZeroGrad();
            F.MseLoss(F.Linear(x, w, b), y).Backward();
            opt.Step();
        }
        Assert.That(w.Item(), Is.EqualTo(3).Within(1e-3));
        Assert.That(b.Item(), Is.EqualTo(2).Within(1e-3));
    }

    [Test]
    public void GradientsMatchPyTorch()
    {
        using var scope = Torch.NewScope();
        Tensor x = OpFixture.In("grad_sin_mul", 0), w = OpFixture.In("grad_sin_mul", 1);
        x.RequiresGrad = true;
        w.RequiresGrad = true;
        (x.Sin() * w).Sum().Backward();
        TensorAssert.Close(x.Grad!, OpFixture.Out("grad_sin_mul"), what: "dx");
        TensorAssert.Close(w.Grad!, OpFixture.Get("grad_sin_mul.out_w"), what: "dw");
    }

    [Test]
    public void AdamWStepsMatchTorchOptimAdamW()
    {
        using var scope = Torch.NewScope();
        Tensor p = OpFixture.In("adamw_3_steps", 0).Clone();
        p.RequiresGrad = true;
        using var opt = new AdamW([p], lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05);
        for (int i = 1; i <= 3; i++)
        {
            // Gradient = the stored one: backward of sum(p * g) gives exactly g.
            using var stepScope = Torch.NewScope();
            opt.ZeroGrad();
            (p * OpFixture.In("adamw_3_steps", i)).Sum().Backward();
            opt.Step();
        }
        TensorAssert.Close(p.Detach(), OpFixture.Out("adamw_3_steps"), rtol: 1e-5, atol: 1e-7);
    }

    [Test]
    public void NoGradAndInferenceModeStopRecording()
    {
        using var scope = Torch.NewScope();
        Tensor w = Torch.Ones([2]);
        w.RequiresGrad = true;
        using (Autograd.NoGrad())
        {
            Assert.That(Autograd.IsGradEnabled, Is.False);
            Assert.That((w * 2).RequiresGrad, Is.False);
        }
        Assert.That(Autograd.IsGradEnabled, Is.True);
        Assert.That((w * 2).RequiresGrad, Is.True);
        using (Autograd.InferenceMode()) Assert.That((w * 2).RequiresGrad, Is.False);
        Assert.That(w.Grad, Is.Null, "no backward has run");
    }
}
