using BenchmarkDotNet.Attributes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Bench;

/// <summary>
/// One operation = submit a 1,000-node workflow of no-op nodes and wait for its terminal event
/// (validation, signatures, cache, scheduling, events, the hop to the execution thread).
/// Divide the mean by 1,000 for µs per node. Cold: cache size 0, so every node runs every time.
/// Cached: the identical workflow again, so every node is served from the cache.
/// </summary>
[MemoryDiagnoser]
public class SchedulingBenchmarks
{
    public const int Nodes = 1000;

    [Params("chain", "wide")]
    public string Shape { get; set; } = "chain";

    private WorkflowEngine _cold = null!;
    private WorkflowEngine _cached = null!;
    private ApiWorkflow _workflow = null!;
    private Validation.ValidationResult _validated = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workflow = Shape == "chain" ? NoopGraphs.Chain(Nodes) : NoopGraphs.Wide(Nodes);
        _cold = new WorkflowEngine(NoopGraphs.Catalog, new EngineOptions { CacheSize = 0, HistorySize = 4 });
        _cached = new WorkflowEngine(NoopGraphs.Catalog, new EngineOptions { CacheSize = 4 * Nodes, HistorySize = 4 });
        _validated = _cold.Validate(_workflow);
        Run(_cached);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cold.Dispose();
        _cached.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Cold() => Run(_cold);

    [Benchmark]
    public void Cached() => Run(_cached);

    [Benchmark]
    public void ValidateOnly() => _cold.Validate(_workflow);

    /// <summary>Execution alone: a workflow validated once, submitted again and again (cold / cached).</summary>
    [Benchmark]
    public void ColdPrevalidated() => Run(_cold, _validated);

    [Benchmark]
    public void CachedPrevalidated() => Run(_cached, _validated);

    private void Run(WorkflowEngine engine, Validation.ValidationResult? validated = null)
    {
        var submitted = validated is null ? engine.Submit(_workflow) : engine.Submit(validated);
        if (!submitted.Accepted) throw new InvalidOperationException(submitted.Validation?.ToJsonString());
        var job = engine.WaitAsync(submitted.JobId!).GetAwaiter().GetResult();
        if (job.Status != Execution.JobStatus.Succeeded) throw new InvalidOperationException(job.Error?.Message);
    }
}
