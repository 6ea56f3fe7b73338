using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using CharacterGen.Tensors.Bench;

// Runs OpBenchmarks with BenchmarkDotNet, then the same ops in PyTorch (torch_ops.py), and prints both as GFLOP/s
// with the ratio ours / PyTorch's (above 1 means we are faster).
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(5).WithIterationCount(20).WithInvocationCount(4).WithUnrollFactor(1))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
var summary = BenchmarkRunner.Run<OpBenchmarks>(config, args);

var ours = summary.Reports.Where(r => r.ResultStatistics is not null)
    .ToDictionary(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name, r => r.ResultStatistics!.Mean / 1e9);

string script = Path.Combine(AppContext.BaseDirectory, "torch_ops.py");
var psi = new ProcessStartInfo("/usr/bin/python3", [script, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)])
{
    RedirectStandardOutput = true,
};
using var python = Process.Start(psi)!;
string json = python.StandardOutput.ReadToEnd();
python.WaitForExit();
var theirs = JsonSerializer.Deserialize<Dictionary<string, double>>(json)!;

Console.WriteLine();
Console.WriteLine($"threads: {Environment.ProcessorCount}, libtorch {CharacterGen.Tensors.Torch.LibTorchVersion}, {CharacterGen.Tensors.Torch.CpuCapability}");
Console.WriteLine("| op | CharacterGen GFLOP/s | PyTorch 1.13 GFLOP/s | ratio |");
Console.WriteLine("|---|---|---|---|");
foreach (var (name, flops) in OpBenchmarks.Flops)
{
    double a = flops / ours[name] / 1e9, b = flops / theirs[name] / 1e9;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {a:0.0} | {b:0.0} | {a / b:0.000} |"));
}
