using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.GraphRuntime.Tests;

public class CachingTests
{
    private TestNodes _nodes = null!;

    [SetUp] public void SetUp() => _nodes = new TestNodes();
    [TearDown] public void TearDown() => _nodes.Dispose();

    private const string Chain = """
        {"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "a.safetensors"}},
         "2": {"class_type": "Sample", "inputs": {"model": ["1", 0], "seed": SEED, "steps": 4}},
         "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}},
         "4": {"class_type": "Const", "inputs": {"value": 1}},
         "5": {"class_type": "Output", "inputs": {"value": ["4", 0]}}}
        """;

    private static string WithSeed(long seed) => Chain.Replace("SEED", seed.ToString());

    [Test]
    public async Task An_identical_resubmission_executes_nothing_and_reports_every_node_cached()
    {
        await using var engine = _nodes.Engine();
        var first = await engine.RunAsync(WithSeed(1));
        Assert.That(_nodes.Executed, Has.Count.EqualTo(5));
        _nodes.ClearExecuted();

        var second = await engine.RunAsync(WithSeed(1));
        Assert.That(_nodes.Executed, Is.Empty);
        Assert.That(second.Timings.All(t => t.Cached));
        var events = await engine.EventsAsync(second.Id);
        Assert.That(events.OfType<NodesCached>().Single().NodeIds, Is.EquivalentTo(new[] { "1", "2", "3", "4", "5" }));
        Assert.That(events.OfType<NodeStarted>(), Is.Empty);
        Assert.That(events.OfType<NodeFinished>().Select(e => (e.NodeId, e.FromCache)), Is.EquivalentTo(new[] { ("3", true), ("5", true) }),
            "cached output nodes still report their ui");
        Assert.That(second.Outputs["3"]["value"], Is.EqualTo(first.Outputs["3"]["value"]));
        Assert.That(events.Last(), Is.TypeOf<JobSucceeded>());
    }

    [Test]
    public async Task Changing_one_literal_reruns_exactly_its_downstream_nodes()
    {
        await using var engine = _nodes.Engine();
        await engine.RunAsync(WithSeed(1));
        _nodes.ClearExecuted();

        var job = await engine.RunAsync(WithSeed(2));
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "2", "3" }));
        Assert.That(job.Timings.Where(t => t.Cached).Select(t => t.NodeId), Is.EquivalentTo(new[] { "1", "4", "5" }));
    }

    [Test]
    public async Task Signatures_ignore_node_ids_and_input_order()
    {
        await using var engine = _nodes.Engine();
        await engine.RunAsync("""{"1": {"class_type": "Add", "inputs": {"a": 1, "b": 2}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        _nodes.ClearExecuted();
        await engine.RunAsync("""{"x": {"class_type": "Add", "inputs": {"b": 2, "a": 1}}, "y": {"class_type": "Output", "inputs": {"value": ["x", 0]}}}""");
        Assert.That(_nodes.Executed, Is.Empty);
    }

    [Test]
    public async Task A_duplicated_subgraph_in_one_prompt_runs_once()
    {
        await using var engine = _nodes.Engine();
        var job = await engine.RunAsync("""
            {"1": {"class_type": "Const", "inputs": {"value": 3}}, "2": {"class_type": "Const", "inputs": {"value": 3}},
             "3": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": ["2", 0]}}, "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "3", "4" }));
        Assert.That(job.Timings.Single(t => t.NodeId == "2").Cached);
    }

    [Test]
    public async Task Nodes_with_a_hidden_unique_id_are_cached_per_node_id()
    {
        await using var engine = _nodes.Engine();
        await engine.RunAsync("""{"a": {"class_type": "Hidden", "inputs": {"value": 1}}, "b": {"class_type": "Hidden", "inputs": {"value": 1}}}""");
        Assert.That(_nodes.Executed, Is.EquivalentTo(new[] { "a", "b" }), "same inputs, but the id is part of the key");
        _nodes.ClearExecuted();
        await engine.RunAsync("""{"a": {"class_type": "Hidden", "inputs": {"value": 1}}, "b": {"class_type": "Hidden", "inputs": {"value": 1}}}""");
        Assert.That(_nodes.Executed, Is.Empty);
    }

    [Test]
    public async Task The_fingerprint_hook_reruns_a_node_when_its_file_changes()
    {
        _nodes.FileHashes["x.png"] = "hash1";
        await using var engine = _nodes.Engine();
        const string json = """{"1": {"class_type": "LoadFile", "inputs": {"path": "x.png"}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";
        await engine.RunAsync(json);
        _nodes.ClearExecuted();
        await engine.RunAsync(json);
        Assert.That(_nodes.Executed, Is.Empty);

        _nodes.FileHashes["x.png"] = "hash2";
        var job = await engine.RunAsync(json);
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "2" }));
        Assert.That(((List<object?>)job.Outputs["2"]["value"]!)[0], Is.EqualTo("content:hash2"));
    }

    [Test]
    public async Task Least_recently_used_entries_are_evicted_and_disposed()
    {
        await using var engine = _nodes.Engine(new EngineOptions { CacheSize = 2 });
        string Tracked(int v) => $$$$"""{"1": {"class_type": "MakeTracked", "inputs": {"value": {{{{v}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";

        await engine.RunAsync(Tracked(1));
        var first = _nodes.Created.Single();
        Assert.That(engine.CachedEntryCount, Is.EqualTo(2));
        Assert.That(first.Disposals, Is.Zero);

        await engine.RunAsync(Tracked(2));
        Assert.That(engine.CachedEntryCount, Is.EqualTo(2));
        Assert.That(first.Disposals, Is.EqualTo(1), "evicted and not held by another entry");
        Assert.That(_nodes.Created[1].Disposals, Is.Zero);

        await engine.FreeAsync();
        Assert.That(engine.CachedEntryCount, Is.Zero);
        Assert.That(_nodes.Created.Select(c => c.Disposals), Is.EqualTo(new[] { 1, 1 }));
    }

    [Test]
    public async Task A_value_shared_by_two_entries_is_disposed_only_when_the_last_goes()
    {
        await using var engine = _nodes.Engine(new EngineOptions { CacheSize = 10 });
        string Pass(int tag) => $$$$"""
            {"1": {"class_type": "MakeTracked", "inputs": {"value": 1}},
             "2": {"class_type": "PassTracked", "inputs": {"value": ["1", 0], "tag": {{{{tag}}}}}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """;
        await engine.RunAsync(Pass(1));
        var value = _nodes.Created.Single();
        await engine.RunAsync(Pass(2)); // three entries now hold the same object (1, 2 for tag 1, 2 for tag 2)
        Assert.That(value.Disposals, Is.Zero);
        await engine.FreeAsync();
        Assert.That(value.Disposals, Is.EqualTo(1));
    }

    [Test]
    public async Task Cache_size_zero_keeps_nothing_between_jobs()
    {
        await using var engine = _nodes.Engine(new EngineOptions { CacheSize = 0 });
        const string json = """{"1": {"class_type": "MakeTracked", "inputs": {"value": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";
        await engine.RunAsync(json);
        Assert.That(engine.CachedEntryCount, Is.Zero);
        Assert.That(_nodes.Created.Single().Disposals, Is.EqualTo(1));
        _nodes.ClearExecuted();
        await engine.RunAsync(json);
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "2" }));
    }
}
