namespace CharacterGen.Tensors.Tests;

/// <summary>Gradient checkpointing: recomputed blocks give the gradients of the stored graph, and nothing leaks.</summary>
public sealed class GradientCheckpointTests
{
    // Two layers with a nonlinearity, so a wrong recompute (other inputs, lost weights) changes every gradient.
    private static Tensor Block(Tensor x, Tensor w1, Tensor w2) => F.Linear(F.Silu(F.Linear(x, w1, null)), w2, null).Tanh();

    private static (double[] Dx, double[] Dw1, double[] Dw2, double[] Y) Gradients(bool checkpointed, bool inputNeedsGrad)
    {
        using var scope = Torch.NewScope();
        using var g = new Generator(4);
        Tensor x = Torch.Randn([3, 5], g).To(DType.Float64), w1 = Torch.Randn([6, 5], g).To(DType.Float64), w2 = Torch.Randn([5, 6], g).To(DType.Float64);
        x.RequiresGrad = inputNeedsGrad;
        w1.RequiresGrad = true;
        w2.RequiresGrad = true;
        // Two blocks in a row: the second's input gradient flows through the first's recompute.
        Tensor Step(Tensor h) => checkpointed ? GradientCheckpoint.Run(xs => Block(xs[0], w1, w2), h) : Block(h, w1, w2);
        Tensor y = Step(Step(x) * 2 + 1);
        (y * y).Sum().Backward();
        return (inputNeedsGrad ? x.Grad!.ToArray<double>() : [], w1.Grad!.ToArray<double>(), w2.Grad!.ToArray<double>(), y.Detach().ToArray<double>());
    }

    [TestCase(true)]
    [TestCase(false)]
    public void RecomputedBlocksGiveTheGradientsOfTheStoredGraph(bool inputNeedsGrad)
    {
        long baseline = Tensor.LiveCount, native = Torch.NativeLiveTensors;
        var plain = Gradients(checkpointed: false, inputNeedsGrad);
        var checkpointed = Gradients(checkpointed: true, inputNeedsGrad);
        Assert.That(checkpointed.Y, Is.EqualTo(plain.Y));
        Assert.That(checkpointed.Dw1, Is.EqualTo(plain.Dw1).Within(1e-12), "weights only inside the block still get gradients");
        Assert.That(checkpointed.Dw2, Is.EqualTo(plain.Dw2).Within(1e-12));
        Assert.That(checkpointed.Dx, Is.EqualTo(plain.Dx).Within(1e-12));
        Assert.That(checkpointed.Dw1.Any(v => v != 0));
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(native));
    }

    [Test]
    public void TheBlockRunsAgainInBackwardAndItsStateIsReleasedWithTheGraph()
    {
        int calls = 0;
        WeakReference captured = RunAndBackward(() => calls++);
        Assert.That(calls, Is.EqualTo(2), "forward once without the graph, once more in backward");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.That(captured.IsAlive, Is.False, "the block's state is freed once its graph is gone");
    }

    private static WeakReference RunAndBackward(Action onCall)
    {
        using var scope = Torch.NewScope();
        var marker = new object();
        Tensor w = Torch.Ones([2]);
        w.RequiresGrad = true;
        Tensor y = GradientCheckpoint.Run(xs =>
        {
            GC.KeepAlive(marker);
            onCall();
            return xs[0] * w;
        }, Torch.Ones([2]));
        y.Sum().Backward();
        Assert.That(w.Grad!.ToArray<float>(), Is.EqualTo(new[] { 1f, 1f }));
        return new WeakReference(marker);
    }

    [Test]
    public void WithoutGradModeItIsAPlainCall()
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        int calls = 0;
        Tensor y = GradientCheckpoint.Run(xs => { calls++; return xs[0] + 1; }, Torch.Zeros([2]));
        Assert.That(y.ToArray<float>(), Is.EqualTo(new[] { 1f, 1f }));
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void AFailingBlockThrowsItsOwnExceptionAndLeaksNothing()
    {
        long baseline = Tensor.LiveCount, native = Torch.NativeLiveTensors;
        using (var scope = Torch.NewScope())
        {
            Tensor x = Torch.Ones([2]);
            x.RequiresGrad = true;
            var e = Assert.Throws<InvalidOperationException>(() => GradientCheckpoint.Run(xs => throw new InvalidOperationException("block broke"), x));
            Assert.That(e!.Message, Is.EqualTo("block broke"));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(native));
    }

    [Test]
    public void ABlockFailingInItsBackwardRecomputeThrowsItsOwnException()
    {
        long baseline = Tensor.LiveCount;
        using (var scope = Torch.NewScope())
        {
            Tensor w = Torch.Ones([2]);
            w.RequiresGrad = true;
            int calls = 0;
            Tensor y = GradientCheckpoint.Run(xs => ++calls == 2 ? throw new OperationCanceledException("cancelled mid-backward") : xs[0] * w, Torch.Ones([2]));
            Assert.Throws<OperationCanceledException>(() => y.Sum().Backward());
            Assert.That(calls, Is.EqualTo(2));
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
    }
}
