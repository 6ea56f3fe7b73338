using System.Diagnostics;
using System.Globalization;
using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// Per-step overhead of two IP-Adapters (a base adapter at 0.7 linear, 4 tokens, and a plus adapter at 0.4 "style
/// transfer", 16 tokens) on the full-size random-weight SD1.5 UNet, CFG batch 2: plain and patched steps interleaved so
/// load changes on a shared machine hit both alike. Usage: dotnet run -c Release -- ipadapter [LATENT RUNS].
/// </summary>
internal static class IpAdapterBench
{
    public static void Run(int latent, int runs)
    {
        Torch.Threads = Environment.ProcessorCount;
        string dir = Path.Combine(Path.GetTempPath(), "cg-ipadapter-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var vitH = TestIpAdapters.TinyVision with { HiddenSize = 1280, ProjectionDim = 1024 };
        string basePath = Path.Combine(dir, "base.safetensors"), plusPath = Path.Combine(dir, "plus.safetensors");
        TestIpAdapters.WriteIpAdapter(basePath, UnetConfig.Sd15, IpAdapterKind.Base, vitH, seed: 1);
        TestIpAdapters.WriteIpAdapter(plusPath, UnetConfig.Sd15, IpAdapterKind.Plus, vitH, seed: 2);
        using var unet = new UnetModel(UnetConfig.Sd15);
        BenchWeights.Initialize(unet, seed: 0);
        using var face = IpAdapterModel.Load(basePath);
        using var style = IpAdapterModel.Load(plusPath);
        Directory.Delete(dir, recursive: true);
        var layout = new IpAdapterLayout(unet);

        double plain = 0, patched = 0;
        using (Autograd.InferenceMode())
        {
            using var scope = Torch.NewScope();
            using var g = new Generator(1);
            Tensor x = Torch.Randn([2, 4, latent, latent], g), t = Torch.Full([2], 500), ctx = Torch.Randn([2, 77, 768], g);
            IpAdapterApplication Applied(IpAdapterModel m, int tokens, double w, string type) => new(m,
                Torch.Randn([1, tokens, 768], g).DetachFromScope(), Torch.Randn([1, tokens, 768], g).DetachFromScope(),
                new IpAdapterWeighting(type, w, isSdxl: false), 999999999.9, 0, EmbedsScaling.VOnly, null, null, null);
            using var a = Applied(face, 4, 0.7, "linear");
            using var b = Applied(style, 16, 0.4, "style transfer");
            var call = new UnetCall(Torch.Full([2], 5.0), [0, 1], null, [new IpAdapterPatch([a, b], layout, latent, latent, 1)]);
            using (Torch.NewScope()) { unet.Forward(x, t, ctx); unet.Forward(x, t, ctx, call: call); } // warm-up
            for (int i = 0; i < runs; i++)
            {
                plain += Time(() => unet.Forward(x, t, ctx));
                patched += Time(() => unet.Forward(x, t, ctx, call: call));
            }
        }
        plain /= runs;
        patched /= runs;
        Console.WriteLine($"SD1.5 UNet, latent {latent}×{latent}, CFG batch 2, float32, {Environment.ProcessorCount} threads, {runs} interleaved runs");
        Console.WriteLine("| step | s/step | overhead |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| plain | {plain:0.000} | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| two IP-Adapters (0.7 base + 0.4 plus style transfer) | {patched:0.000} | {100 * (patched / plain - 1):+0.0;-0.0}% |"));
    }

    private static double Time(Func<Tensor> step)
    {
        using var scope = Torch.NewScope();
        var sw = Stopwatch.StartNew();
        Tensor y = step();
        sw.Stop();
        if (y.IsFinite().LogicalNot().Sum().Item() != 0) throw new InvalidOperationException("non-finite output");
        return sw.Elapsed.TotalSeconds;
    }
}
