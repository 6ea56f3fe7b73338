using System.Diagnostics;

namespace CharacterGen.Tensors.Tests;

/// <summary>libtorch failures become typed .NET exceptions with libtorch's message; nothing leaks, nothing crashes.</summary>
public sealed class ErrorHandlingTests
{
    [Test]
    public void MatmulShapeMismatchIsATypedExceptionWithLibtorchsMessage()
    {
        using var scope = Torch.NewScope();
        Tensor a = Torch.Ones([2, 3]), b = Torch.Ones([4, 5]);
        var e = Assert.Throws<TorchException>(() => F.Matmul(a, b));
        Assert.That(e!.Message, Does.Contain("cannot be multiplied").Or.Contain("shapes"));
        Assert.That(e.Message, Does.Contain("2x3").And.Contain("4x5"));
        Assert.That(F.Matmul(a, Torch.Ones([3, 1])).Shape, Is.EqualTo(new long[] { 2, 1 }), "the process keeps working");
    }

    [Test]
    public void ArgumentErrorsMapToTorchArgumentException()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.Ones([2, 3]);
        Assert.Throws<TorchArgumentException>(() => x.Select(0, 7));
        Assert.Throws<TorchArgumentException>(() => Torch.FromBytes(new byte[3], DType.Float32, [1]));
        Assert.That(Assert.Throws<TorchException>(() => x.Reshape(4, 4))!.Message, Does.Contain("invalid for input of size 6"));
    }

    [Test]
    public void TenThousandErrorsLeakNoTensorsAndNoMemory()
    {
        using var scope = Torch.NewScope();
        Tensor a = Torch.Ones([8, 3]), b = Torch.Ones([4, 8]);
        long liveBefore = Tensor.LiveCount, nativeBefore = Torch.NativeLiveTensors;
        // Warm up allocator and exception paths before measuring memory.
        for (int i = 0; i < 500; i++) Assert.Catch<TorchException>(() => F.Matmul(a, b));
        GC.Collect();
        long memoryBefore = Process.GetCurrentProcess().PrivateMemorySize64;
        for (int i = 0; i < 10_000; i++)
        {
            try { F.Matmul(a, b); Assert.Fail("expected a failure"); }
            catch (TorchException) { }
        }
        GC.Collect();
        long growth = Process.GetCurrentProcess().PrivateMemorySize64 - memoryBefore;
        Assert.That(Tensor.LiveCount, Is.EqualTo(liveBefore));
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(nativeBefore));
        Assert.That(growth, Is.LessThan(16L << 20), "10,000 failures grew the process by more than 16 MiB");
    }

    [Test]
    public void UsingADisposedTensorThrowsObjectDisposed()
    {
        Tensor t = Torch.Ones([2]).DetachFromScope();
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Exp());
    }
}
