namespace CharacterGen.Tensors.Tests;

/// <summary>bf16 autocast on the CPU: matmuls run in bf16 inside the scope, float32 outside, gradients reach float32 leaves.</summary>
public sealed class AutocastTests
{
    [Test]
    public void LinearRunsInBf16InsideTheScopeAndGradientsStayFloat32()
    {
        using var scope = Torch.NewScope();
        using var g = new Generator(1);
        Tensor x = Torch.Randn([4, 8], g), w = Torch.Randn([3, 8], g);
        w.RequiresGrad = true;
        Tensor exact = F.Linear(x, w, null);
        Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.False);
        Tensor y;
        using (Autocast.Enable(Device.Cpu))
        {
            Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.True);
            y = F.Linear(x, w, null);
        }
        Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.False, "the scope restores the previous state");
        Assert.That(exact.DType, Is.EqualTo(DType.Float32));
        Assert.That(y.DType, Is.EqualTo(DType.BFloat16));
        float[] a = exact.Detach().ToArray<float>(), b = y.Detach().To(DType.Float32).ToArray<float>();
        Assert.That(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)), Is.GreaterThan(0).And.LessThan(0.1), "bf16 rounding, nothing worse");
        y.To(DType.Float32).Sum().Backward();
        Assert.That(w.Grad!.DType, Is.EqualTo(DType.Float32), "the float32 leaf gets a float32 gradient");
    }

    [Test]
    public void NestedScopesRestoreTheOuterState()
    {
        using (Autocast.Enable(Device.Cpu))
        {
            using (Autocast.Enable(Device.Cpu)) Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.True);
            Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.True);
        }
        Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.False);
    }

    [Test]
    public void TheCpuTakesBf16Only() =>
        Assert.Throws<TorchArgumentException>(() => Autocast.Enable(Device.Cpu, DType.Float16).Dispose());
}
