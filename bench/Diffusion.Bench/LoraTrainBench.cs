using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Training;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// Milliseconds per SD1.5 LoRA training step (rank R on the attention projections, batch 1, full-size random weights,
/// float32) through <see cref="LoraTrainer"/>, against the same step in PyTorch 1.13 eager (torch_lora_train.py), each
/// without and with gradient checkpointing per UNet block. Median of RUNS steps after one warm-up step.
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
        var rows = new List<string>();
        string lora = "?";
        try
        {
            foreach (bool checkpointing in new[] { false, true })
            {
                var options = new LoraTrainingOptions
                {
                    Rank = rank, Alpha = rank, LearningRate = 1e-4, Targets = LoraTargets.Attention, Seed = 1,
                    Steps = runs + 1, GradientCheckpointing = checkpointing,
                };
                // Step durations from the progress callback; the first (warm-up, with set-up) is dropped.
                var stamps = new List<double>();
                var clock = Stopwatch.StartNew();
                using (TrainedLora trained = new LoraTrainer(unet, ModelFamily.SD1Checkpoint, PredictionType.Epsilon, [sample], options)
                    .Train("bench", onStep: _ => stamps.Add(clock.Elapsed.TotalMilliseconds)))
                    if (!trained.Losses.All(double.IsFinite)) throw new InvalidOperationException("non-finite loss");
                double ours = Median(stamps.Zip(stamps.Skip(1), (a, b) => b - a));
                var theirs = Python(repo, latent, rank, runs, checkpointing);
                lora = theirs["lora_layers"].ToString(CultureInfo.InvariantCulture);
                double theirsMs = theirs["seconds"] * 1000;
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {latent * 8}×{latent * 8} | {(checkpointing ? "on" : "off")} | {ours:0} | {theirsMs:0} | {ours / theirsMs:0.00} |"));
            }
        }
        finally
        {
            sample.Dispose();
        }

        Console.WriteLine($"SD1.5 LoRA training step, rank {rank} on {lora} attention projections, batch 1, float32, {Environment.ProcessorCount} threads, libtorch {Torch.LibTorchVersion}, median of {runs} steps after a warm-up");
        Console.WriteLine("| image | gradient checkpointing | CharacterGen ms/step | PyTorch 1.13 eager ms/step | ratio (ours / theirs) |");
        Console.WriteLine("|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static Dictionary<string, double> Python(string repo, int latent, int rank, int runs, bool checkpointing)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(AppContext.BaseDirectory, "torch_lora_train.py"), repo, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
             latent.ToString(CultureInfo.InvariantCulture), rank.ToString(CultureInfo.InvariantCulture), runs.ToString(CultureInfo.InvariantCulture),
             checkpointing ? "1" : "0"])
        { RedirectStandardOutput = true };
        using var python = Process.Start(psi)!;
        var result = JsonSerializer.Deserialize<Dictionary<string, double>>(python.StandardOutput.ReadToEnd())!;
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException($"torch_lora_train.py exited with {python.ExitCode}");
        return result;
    }
}
