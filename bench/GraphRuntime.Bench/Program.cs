using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CharacterGen.GraphRuntime.Bench;

// `stopwatch` prints µs per node quickly; anything else goes to BenchmarkDotNet (in-process, short run,
// because the project's machines have two shared cores).
if (args is ["stopwatch", ..])
{
    StopwatchHarness.Run(args.Length > 1 ? int.Parse(args[1]) : 30);
    return;
}

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithIterationCount(10).WithWarmupCount(3))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(SchedulingBenchmarks).Assembly).Run(args, config);

/// <summary>A plain Stopwatch loop over the same operations as the benchmark: median and best µs per node.</summary>
internal static class StopwatchHarness
{
    public static void Run(int repetitions)
    {
        Console.WriteLine($"| shape | mode | µs per node, median of {repetitions} | µs per node, best |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var shape in new[] { "chain", "wide" })
        {
            var bench = new SchedulingBenchmarks { Shape = shape };
            bench.Setup();
            foreach (var (mode, op) in new (string, Action)[] { ("cold", bench.Cold), ("cached", bench.Cached), ("validate only", bench.ValidateOnly),
                         ("cold, pre-validated", bench.ColdPrevalidated), ("cached, pre-validated", bench.CachedPrevalidated) })
            {
                for (var i = 0; i < 5; i++) op(); // warm-up (JIT, tiering)
                var samples = new double[repetitions];
                for (var i = 0; i < repetitions; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    op();
                    samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / SchedulingBenchmarks.Nodes;
                }
                Array.Sort(samples);
                Console.WriteLine($"| {shape} | {mode} | {samples[repetitions / 2]:F2} | {samples[0]:F2} |");
            }
            bench.Cleanup();
        }
    }
}
