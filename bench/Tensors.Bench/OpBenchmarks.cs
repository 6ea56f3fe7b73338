using BenchmarkDotNet.Attributes;

namespace CharacterGen.Tensors.Bench;

/// <summary>The two ops that dominate diffusion on CPU, through our C# layer. Inputs are made once.</summary>
[MemoryDiagnoser(false)]
public class OpBenchmarks
{
    private Tensor _a = null!, _b = null!, _x = null!, _w = null!, _bias = null!;

    [GlobalSetup]
    public void Setup()
    {
        Torch.Threads = Environment.ProcessorCount;
        using var g = new Generator(0);
        _a = Torch.Randn([2048, 2048], g).DetachFromScope();
        _b = Torch.Randn([2048, 2048], g).DetachFromScope();
        _x = Torch.Randn([1, 320, 64, 64], g).DetachFromScope();
        _w = Torch.Randn([320, 320, 3, 3], g).DetachFromScope();
        _bias = Torch.Randn([320], g).DetachFromScope();
    }

    // Gradients off, as the PyTorch side (torch.no_grad()) and as generation runs in the product.
    [Benchmark]
    public void Matmul2048()
    {
        using var noGrad = Autograd.NoGrad();
        using Tensor r = F.Matmul(_a, _b);
    }

    [Benchmark]
    public void Conv2d320x64x64()
    {
        using var noGrad = Autograd.NoGrad();
        using Tensor r = F.Conv2d(_x, _w, _bias, padding: 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Tensor t in new[] { _a, _b, _x, _w, _bias }) t.Dispose();
    }

    /// <summary>Floating-point operations per call, for GFLOP/s.</summary>
    public static readonly IReadOnlyDictionary<string, double> Flops = new Dictionary<string, double>
    {
        [nameof(Matmul2048)] = 2.0 * 2048 * 2048 * 2048,
        [nameof(Conv2d320x64x64)] = 2.0 * 320 * 320 * 9 * 64 * 64,
    };
}
