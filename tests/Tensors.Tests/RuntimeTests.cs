namespace CharacterGen.Tensors.Tests;

public sealed class RuntimeTests
{
    [Test]
    public void ReportsLibtorchVersionCapabilityAndThreads()
    {
        Assert.That(Torch.LibTorchVersion, Does.Match(@"^\d+\.\d+\.\d+$"));
        Assert.That(Torch.CpuCapability, Is.AnyOf("default", "avx2", "avx512", "other"));
        Assert.That(Torch.NativeApiVersion, Is.EqualTo(1));
        int before = Torch.Threads;
        Torch.Threads = 1;
        Assert.That(Torch.Threads, Is.EqualTo(1));
        Torch.Threads = before;
        Assert.Throws<TorchArgumentException>(() => Torch.Threads = 0);
    }

    [Test]
    public void CudaQueriesAreSafeWithoutAGpu()
    {
        if (Cuda.IsAvailable)
        {
            Assert.That(Cuda.DeviceCount, Is.GreaterThan(0));
            var (free, total) = Cuda.DeviceMemory();
            Assert.That(free, Is.GreaterThan(0).And.LessThanOrEqualTo(total));
            Assert.Throws<TorchArgumentException>(() => Cuda.DeviceMemory(Cuda.DeviceCount));
        }
        else
        {
            Assert.That(Cuda.DeviceCount, Is.EqualTo(0));
            Assert.That(Cuda.Memory(), Is.EqualTo((0L, 0L)));
            Assert.That(Cuda.DeviceMemory(), Is.EqualTo((0L, 0L)));
            Cuda.Synchronize();
            Cuda.EmptyCache();
        }
    }

    [Test]
    public void BuildFeaturesFollowTheLibtorchVersion()
    {
        // native/CMakeLists.txt switches the fused attention on for libtorch ≥ 2.1 and CUDA for a CUDA libtorch;
        // a wrong switch would either fail to compile or silently run the slow path.
        var features = Torch.NativeBuildFeatures;
        var version = Version.Parse(Torch.LibTorchVersion);
        Assert.That(features, Is.SubsetOf(new[] { "sdpa", "float8", "cuda" }));
        Assert.That(features.Contains("sdpa"), Is.EqualTo(version >= new Version(2, 1)), $"features [{string.Join(",", features)}] for libtorch {Torch.LibTorchVersion}");
        if (version.Major < 2) Assert.That(features, Does.Not.Contain("float8"));
        if (Cuda.IsAvailable) Assert.That(features, Does.Contain("cuda"));
    }

    [Test]
    public void EveryNativeSymbolResolvesAtLoadTime()
    {
        // libcgtorch.so binds lazily: a libtorch symbol that is declared in a header but not exported would only
        // fail (and kill the process) at its first call. `ldd -r` resolves them all now.
        string lib = Path.Combine(AppContext.BaseDirectory, "libcgtorch.so");
        var psi = new System.Diagnostics.ProcessStartInfo("ldd", ["-r", lib]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var ldd = System.Diagnostics.Process.Start(psi)!;
        string output = ldd.StandardOutput.ReadToEnd() + ldd.StandardError.ReadToEnd();
        ldd.WaitForExit();
        Assert.That(output, Does.Not.Contain("undefined symbol"));
        Assert.That(output, Does.Contain("libtorch_cpu"));
    }

    [Test]
    public void DevicesParseLikePyTorch()
    {
        Assert.That(Device.Parse("cpu"), Is.EqualTo(Device.Cpu));
        Assert.That(Device.Parse("cuda:1"), Is.EqualTo(Device.Cuda(1)));
        Assert.That(Device.Parse("cuda").ToString(), Is.EqualTo("cuda:0"));
        Assert.Throws<FormatException>(() => Device.Parse("gpu"));
    }
}
