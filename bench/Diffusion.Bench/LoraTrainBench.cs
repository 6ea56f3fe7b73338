using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// Seconds per SD1.5 LoRA training step (rank R on the attention projections, batch 1, full-size random weights,
/// float32) through <see cref="LoraTrainer"/>, against the same step in PyTorch 1.13 eager (torch_lora_train.py).
/// Usage: dotnet run -c Release -- lora [LATENT_SIZE=64] [RANK=16] [RUNS=2]
/// </summary>
internal static class LoraTrainBench
{
    public static void Run(string repo, int latent, int rank, int runs)
    {
        Torch.Threads = Environment.ProcessorCount;
        using var unet = new UnetModel(UnetConfig.Sd15);
        BenchWeights.Initialize(unet, seed: 0);
        using var g = new Generator(1);
        TrainingSample sample;
        using (Torch.NewScope()) sample = new TrainingSample(Torch.Randn([4, latent, latent], g), Torch.Randn([77, 768], g));
        double ours;
        try
        {
            // One warm-up step, then runs + 1 steps: the difference is the time of `runs` steps without set-up.
            var options = new LoraTrainingOptions { Rank = rank, Alpha = rank, LearningRate = 1e-4, Targets = LoraTargets.Attention, Seed = 1 };
            double Time(int steps)
            {
                var sw = Stopwatch.StartNew();
                using TrainedLora lora = new LoraTrainer(unet, ModelFamily.SD1Checkpoint, PredictionType.Epsilon, [sample], options with { Steps = steps })
                    .Train("bench");
                if (!lora.Losses.All(double.IsFinite)) throw new InvalidOperationException("non-finite loss");
                return sw.Elapsed.TotalSeconds;
            }
            double one = Time(1);
            ours = (Time(runs + 1) - one) / runs;
        }
        finally
        {
            sample.Dispose();
        }

        var psi = new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(AppContext.BaseDirectory, "torch_lora_train.py"), repo, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
             latent.ToString(CultureInfo.InvariantCulture), rank.ToString(CultureInfo.InvariantCulture), runs.ToString(CultureInfo.InvariantCulture)])
        { RedirectStandardOutput = true };
        using var python = Process.Start(psi)!;
        var theirs = JsonSerializer.Deserialize<Dictionary<string, double>>(python.StandardOutput.ReadToEnd())!;
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException($"torch_lora_train.py exited with {python.ExitCode}");

        Console.WriteLine($"SD1.5 LoRA training step, rank {rank} on {theirs["lora_layers"]} attention projections, batch 1, float32, {Environment.ProcessorCount} threads, libtorch {Torch.LibTorchVersion}");
        Console.WriteLine("| image | CharacterGen s/step | PyTorch 1.13 eager s/step | ratio (ours / theirs) |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {latent * 8}×{latent * 8} | {ours:0.000} | {theirs["seconds"]:0.000} | {ours / theirs["seconds"]:0.00} |"));
    }
}
