using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

// Seconds per SD1.5 UNet step with CFG (one forward at batch 2), full-size shapes, random weights, float32 on this
// CPU, at 512×512 pixels (64×64 latent) and 64×64 pixels (8×8 latent); then the same in PyTorch eager via
// torch_unet.py, and the ratio. Usage: dotnet run -c Release [-- RUNS_AT_512 RUNS_AT_64 [DTYPE]]
// One ControlNet's per-step overhead at 512×512: dotnet run -c Release -- controlnet [RUNS] (see ControlNetBench.cs).
// SDXL at 1024×1024 and LoRA apply/remove: dotnet run -c Release -- sdxl [RUNS] (see SdxlBench.cs).
// bench/gpu/run.sh's parts (published and run outside the repository, so before FindRepoRoot): see GpuUnet.cs, GpuOps.cs.
if (args is ["gpu", ..])
{
    Torch.Threads = int.TryParse(Environment.GetEnvironmentVariable("CHARACTERGEN_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;
    int I(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
    switch (args)
    {
        case [_, "ops", var path, var dev, var dt]:
            CharacterGen.Diffusion.Bench.GpuOps.Run(path, Device.Parse(dev), Enum.Parse<DType>(dt, ignoreCase: true));
            return;
        case [_, "unet", var config, _, _, _, var dts, ..]:
            CharacterGen.Diffusion.Bench.GpuUnet.Run(config, I(3), I(4), Device.Parse(args[5]),
                dts.Split(',').Select(d => Enum.Parse<DType>(d, ignoreCase: true)).ToArray(), args.Length > 7 ? I(7) : 0);
            return;
        default:
            Console.Error.WriteLine("usage: gpu ops OUT.safetensors DEVICE DTYPE | gpu unet CONFIG LATENT RUNS DEVICE DTYPE[,DTYPE...] [STEPS]");
            Environment.Exit(2);
            return;
    }
}
// Peak memory loading the full-size SD1.5 file: dotnet run -c Release -- load [FILE] (see LoadBench.cs).
if (args is ["load-one", var loadFile, var loadDType])
{
    CharacterGen.Diffusion.Bench.LoadBench.RunOne(loadFile, loadDType);
    return;
}
if (args is ["load", ..])
{
    CharacterGen.Diffusion.Bench.LoadBench.Run(args.Length > 1 ? args[1] : null);
    return;
}
// One SD1.5 LoRA training step: dotnet run -c Release -- lora [LATENT_SIZE RANK RUNS] (see LoraTrainBench.cs).
string repo = FindRepoRoot();
if (args is ["lora", ..])
{
    int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
    CharacterGen.Diffusion.Bench.LoraTrainBench.Run(repo, Arg(1, 64), Arg(2, 16), Arg(3, 2));
    return;
}
if (args is ["controlnet", ..])
{
    CharacterGen.Diffusion.Bench.ControlNetBench.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3);
    return;
}
// Two IP-Adapters' per-step overhead: dotnet run -c Release -- ipadapter [LATENT RUNS] (see IpAdapterBench.cs).
if (args is ["ipadapter", ..])
{
    CharacterGen.Diffusion.Bench.IpAdapterBench.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3);
    return;
}
if (args is ["sdxl", ..])
{
    CharacterGen.Diffusion.Bench.SdxlBench.Run(repo, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1);
    return;
}
// --ours-only skips the PyTorch side; a size with 0 runs is skipped (e.g. `-- 0 5 float32 --ours-only`).
bool oursOnly = args.Contains("--ours-only");
args = [.. args.Where(a => a != "--ours-only")];
int runs512 = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
int runs64 = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
// Optional third argument: the weight and activation dtype on our side (float32 default; bfloat16 uses the CPU's
// AVX512-BF16 kernels through oneDNN). The PyTorch side always runs float32.
DType dtype = args.Length > 2 ? Enum.Parse<DType>(args[2], ignoreCase: true) : DType.Float32;
Torch.Threads = Environment.ProcessorCount;
// As the server (TorchSetup.ConfigureAllocator): the caching CPU allocator, unless CHARACTERGEN_CPU_CACHE_MB=0.
bool caching = Environment.GetEnvironmentVariable("CHARACTERGEN_CPU_CACHE_MB") is not "0";
if (caching) HostMemory.UseCachingAllocator(8L << 30);

using var unet = new UnetModel(UnetConfig.Sd15);
// Fan-in scaled like the Python side, so activations stay O(1) (no denormals skewing CPU timings).
CharacterGen.Diffusion.Bench.BenchWeights.Initialize(unet, seed: 0);

if (dtype != DType.Float32) unet.To(Device.Cpu, dtype);
var ours = new Dictionary<int, double>();
using (Autograd.InferenceMode())
{
    foreach (var (size, runs) in new[] { (8, runs64), (64, runs512) })
    {
        if (runs == 0) continue;
        using var scope = Torch.NewScope();
        using var g = new Generator(1);
        Tensor x = Torch.Randn([2, 4, size, size], g).To(dtype), t = Torch.Full([2], 500), ctx = Torch.Randn([2, 77, 768], g).To(dtype);
        using (Torch.NewScope()) unet.Forward(x, t, ctx); // warm-up
        var sw = new Stopwatch();
        for (int i = 0; i < runs; i++)
        {
            using var step = Torch.NewScope();
            sw.Start();
            Tensor y = unet.Forward(x, t, ctx);
            sw.Stop();
            if (y.IsFinite().LogicalNot().Sum().Item() != 0) throw new InvalidOperationException("non-finite output");
        }
        ours[size] = sw.Elapsed.TotalSeconds / runs;
    }
}

if (oursOnly)
{
    foreach (var (size, s) in ours)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ours latent {size}×{size}, {(caching ? "caching allocator" : "libtorch's allocator")}: {s:0.000} s/step"));
    return;
}
var psi = new ProcessStartInfo("/usr/bin/python3",
    [Path.Combine(AppContext.BaseDirectory, "torch_unet.py"), repo, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), $"8:{runs64}", $"64:{runs512}"])
{ RedirectStandardOutput = true };
using var python = Process.Start(psi)!;
var theirs = JsonSerializer.Deserialize<Dictionary<string, double>>(python.StandardOutput.ReadToEnd())!;
python.WaitForExit();

Console.WriteLine($"SD1.5 UNet, CFG batch 2, ours in {dtype.TorchName()} (PyTorch float32), {Environment.ProcessorCount} threads, libtorch {Torch.LibTorchVersion} ({Torch.CpuCapability})");
Console.WriteLine("| image | latent | CharacterGen s/step | PyTorch 1.13 eager s/step | ratio (ours / theirs) |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var (size, pixels) in new[] { (64, 512), (8, 64) })
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {pixels}×{pixels} | {size}×{size} | {ours[size]:0.000} | {theirs[size.ToString(CultureInfo.InvariantCulture)]:0.000} | {ours[size] / theirs[size.ToString(CultureInfo.InvariantCulture)]:0.00} |"));

static string FindRepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
    throw new DirectoryNotFoundException("run from inside the repository");
}
