using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// SDXL on CPU: seconds per UNet step with CFG (batch 2) at 1024×1024 (128×128 latent), ours then PyTorch eager
/// (the reference UNet in tests/Diffusion.Tests/Fixtures, with label_emb), and the time to apply and to remove a
/// rank-32 LoRA over every transformer linear layer. Usage: dotnet run -c Release -- sdxl [RUNS]
/// </summary>
internal static class SdxlBench
{
    public static void Run(string repo, int runs)
    {
        // PyTorch first: each side needs ≈10 GB, and a process keeps freed heap, so they must not overlap.
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "torch_unet.py"), repo,
            Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), "--sdxl", $"128:{runs}"]) { RedirectStandardOutput = true };
        using var python = Process.Start(psi)!;
        string json = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException($"torch_unet.py exited with {python.ExitCode} (out of memory?)");
        double theirs = JsonSerializer.Deserialize<Dictionary<string, double>>(json)!["128"];

        double ours, apply, remove;
        int patched;
        using (var unet = new UnetModel(UnetConfig.Sdxl))
        {
            BenchWeights.Initialize(unet, seed: 0);
            using (Autograd.InferenceMode())
            {
                using var scope = Torch.NewScope();
                using var g = new Generator(1);
                Tensor x = Torch.Randn([2, 4, 128, 128], g), t = Torch.Full([2], 500);
                Tensor ctx = Torch.Randn([2, 77, 2048], g), y = Torch.Randn([2, 2816], g);
                var sw = new Stopwatch();
                for (int i = 0; i < runs; i++)
                {
                    using var step = Torch.NewScope();
                    sw.Start();
                    unet.Forward(x, t, ctx, y);
                    sw.Stop();
                }
                ours = sw.Elapsed.TotalSeconds / runs;
            }
            (apply, remove, patched) = TimeLora(unet);
        }

        Console.WriteLine($"SDXL UNet (2.57 B parameters), CFG batch 2, float32, {Environment.ProcessorCount} threads, libtorch {Torch.LibTorchVersion}");
        Console.WriteLine("| image | latent | CharacterGen s/step | PyTorch 1.13 eager s/step | ratio |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 1024×1024 | 128×128 | {ours:0.0} | {theirs:0.0} | {ours / theirs:0.00} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rank-32 LoRA over {patched} weights: apply {apply:0.00} s, remove (restore originals) {remove:0.00} s"));
    }

    /// <summary>Writes a rank-32 LoRA for every transformer linear weight, then times patching and restoring.</summary>
    private static (double Apply, double Remove, int Patched) TimeLora(UnetModel unet)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cg-bench-lora-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var scope = Torch.NewScope())
            using (var g = new Generator(2))
            {
                var tensors = new List<KeyValuePair<string, Tensor>>();
                foreach (var (name, p) in unet.NamedParameters())
                {
                    if (!name.Contains(".transformer_blocks.", StringComparison.Ordinal) || p.Shape.Length != 2 || !name.EndsWith(".weight", StringComparison.Ordinal))
                        continue;
                    string module = "diffusion_model." + name[..^".weight".Length];
                    tensors.Add(new(module + ".lora_down.weight", Torch.Randn([32, p.Shape[1]], g) * 0.01));
                    tensors.Add(new(module + ".lora_up.weight", Torch.Randn([p.Shape[0], 32], g) * 0.01));
                    tensors.Add(new(module + ".alpha", Torch.Scalar(32)));
                }
                SafetensorsTensors.Save(path, tensors);
            }
            using var file = LoraFile.Load(path);
            using LoraPatches patches = LoraMapper.Map(file, "bench", unet, null, "sdxl");
            using var patcher = new WeightPatcher(unet, LoraTarget.Unet);
            using var noGrad = Autograd.NoGrad();
            var sw = Stopwatch.StartNew();
            patcher.Apply([new WeightedLora(patches, 1.0)]);
            double apply = sw.Elapsed.TotalSeconds;
            sw.Restart();
            patcher.Apply([]);
            return (apply, sw.Elapsed.TotalSeconds, patches.Patches.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Random weights scaled by fan-in, as the Python side makes them, so activations stay O(1).</summary>
internal static class BenchWeights
{
    public static void Initialize(Tensors.Nn.Module module, ulong seed)
    {
        using var g = new Generator(seed);
        foreach (var (name, p) in module.NamedParameters())
        {
            using var scope = Torch.NewScope();
            Tensor t = Torch.Randn(p.Shape, g);
            t = name.EndsWith(".bias", StringComparison.Ordinal) ? t * 0.1
                : p.Shape.Length == 1 ? t * 0.1 + 1
                : t / Math.Sqrt(p.Shape.Skip(1).Aggregate(1L, (a, b) => a * b));
            p.Set(t.MoveToOuterScope());
        }
    }
}
