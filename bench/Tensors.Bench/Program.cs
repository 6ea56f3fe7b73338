using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using CharacterGen.Tensors.Bench;

// Times OpBenchmarks (with BenchmarkDotNet, or with `stopwatch [N]` as plain timed calls), then the same ops in PyTorch
// (torch_ops.py), and prints both as GFLOP/s with the ratio ours / PyTorch's (above 1 means we are faster).
Dictionary<string, double> ours;
if (args is ["stopwatch", ..])
{
    // Like for like with torch_ops.py: median of N plain timed calls after 5 warm-ups, no harness around them.
    int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
    var bench = new OpBenchmarks();
    bench.Setup();
    ours = [];
    foreach (var (name, call) in new (string, Action)[] { ("Matmul2048", bench.Matmul2048), ("Conv2d320x64x64", bench.Conv2d320x64x64) })
    {
        for (int i = 0; i < 5; i++) call();
        var times = Enumerable.Range(0, n).Select(_ => { var sw = Stopwatch.StartNew(); call(); return sw.Elapsed.TotalSeconds; }).Order().ToArray();
        ours[name] = times[n / 2];
    }
    bench.Cleanup();
}
else
{
    var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(5).WithIterationCount(20).WithInvocationCount(4).WithUnrollFactor(1))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
var summary = BenchmarkRunner.Run<OpBenchmarks>(config, args);
ours = summary.Reports.Where(r => r.ResultStatistics is not null)
    .ToDictionary(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name, r => r.ResultStatistics!.Mean / 1e9);
}

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
