using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Tests;

/// <summary>
/// What a finished job costs while it sits in history (issue 10's soak: 1,000 kept jobs must not grow the server by
/// 50 MB): its request as compact text rather than parsed JSON trees, no compiled graph, and its events without the
/// preview images once the preview retention has passed, while every reader still sees the same job.
/// </summary>
public sealed class HistoryFootprintTests
{
    private TestNodes _nodes = null!;

    [SetUp]
    public void SetUp() => _nodes = new TestNodes();

    [TearDown]
    public void TearDown()
    {
        _nodes.Gate.Set();
        _nodes.Dispose();
    }

    private static string Quick(int v) => $$$$"""{"1": {"class_type": "Const", "inputs": {"value": {{{{v}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";

    /// <summary>extra_data as ComfyUI's front end sends it: the whole UI-format workflow under extra_pnginfo (~20 KB of text).</summary>
    private static JsonObject UiExtraData(int nodes)
    {
        var list = new JsonArray();
        for (var i = 0; i < nodes; i++)
            list.Add(new JsonObject
            {
                ["id"] = i, ["type"] = "CLIPTextEncode", ["pos"] = new JsonArray(100 + i, 200 + i), ["size"] = new JsonArray(400, 200),
                ["flags"] = new JsonObject(), ["order"] = i, ["mode"] = 0,
                ["inputs"] = new JsonArray(new JsonObject { ["name"] = "clip", ["type"] = "CLIP", ["link"] = i }),
                ["outputs"] = new JsonArray(new JsonObject { ["name"] = "CONDITIONING", ["type"] = "CONDITIONING", ["links"] = new JsonArray(i + 1) }),
                ["properties"] = new JsonObject { ["Node name for S&R"] = "CLIPTextEncode" },
                ["widgets_values"] = new JsonArray("a photo of a cat", 1.0, true),
            });
        return new JsonObject { ["client_id"] = "footprint", ["extra_pnginfo"] = new JsonObject { ["workflow"] = new JsonObject { ["nodes"] = list } } };
    }

    [Test]
    public async Task A_finished_job_keeps_about_its_request_text_in_memory_not_its_parsed_trees()
    {
        const int Jobs = 200;
        var extra = UiExtraData(nodes: 60);
        var textBytes = extra.ToJsonString().Length + Quick(-900).Length;
        await using var engine = new WorkflowEngine(_nodes.Catalog, new EngineOptions { HistorySize = 2 * Jobs, CacheSize = 0 });
        for (var i = 0; i < 10; i++) await engine.RunAsync(Quick(i), new SubmitOptions { ExtraData = extra }); // warm-up

        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < Jobs; i++) await engine.RunAsync(Quick(-900 + i), new SubmitOptions { ExtraData = extra });
        var perJob = (GC.GetTotalMemory(forceFullCollection: true) - before) / (double)Jobs;

        Assert.That(engine.History, Has.Count.EqualTo(Jobs + 10));
        // The parsed extra_data alone costs several times its text; text plus results, events and bookkeeping fit in 2×.
        TestContext.Out.WriteLine($"{perJob:F0} bytes per finished job, request text {textBytes}");
        Assert.That(perJob, Is.LessThan(2.0 * textBytes + 4096), $"{perJob:F0} bytes held per finished job, request text {textBytes} bytes");
        var last = engine.History[^1];
        Assert.That(last.ExtraData["extra_pnginfo"]!.ToJsonString(), Is.EqualTo(extra["extra_pnginfo"]!.ToJsonString()), "read back whole");
        Assert.That(last.Workflow.ClassType("1"), Is.EqualTo("Const"));
        Assert.That(last.Workflow.Inputs("1")["value"]!.GetValue<long>(), Is.EqualTo(-900 + Jobs - 1));
    }

    [Test]
    public async Task A_finished_job_replays_every_event_and_drops_its_previews_after_the_retention()
    {
        var clock = new ManualClock();
        _nodes.Gate.Set();
        await using var engine = new WorkflowEngine(_nodes.Catalog, clock: clock);
        var job = await engine.RunAsync("""{"1": {"class_type": "Steps", "inputs": {"steps": 2}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");

        var live = await engine.EventsAsync(job.Id);
        Assert.That(live.OfType<NodeProgress>().Select(p => p.Preview), Is.EqualTo(new object?[] { new byte[] { 1, 2, 3 }, null }));

        clock.Advance(WorkflowEngine.PreviewRetention + TimeSpan.FromSeconds(1));
        await engine.RunAsync(Quick(1)); // a later finish is when history looks at its older jobs

        var replay = await engine.EventsAsync(job.Id);
        Assert.That(replay.Select(e => (e.GetType(), e.Sequence, e.Timestamp)), Is.EqualTo(live.Select(e => (e.GetType(), e.Sequence, e.Timestamp))));
        Assert.That(replay.OfType<NodeProgress>().Select(p => (p.Value, p.Max, p.Preview)), Is.EqualTo(new[] { (1.0, 2.0, (object?)null), (2.0, 2.0, null) }));
        Assert.That(replay[^1], Is.InstanceOf<JobSucceeded>());
        Assert.That(engine.GetJob(job.Id)!.LastSequence, Is.EqualTo(replay.Count));
    }

    [Test]
    public async Task Previews_stay_while_the_retention_runs()
    {
        var clock = new ManualClock();
        _nodes.Gate.Set();
        await using var engine = new WorkflowEngine(_nodes.Catalog, clock: clock);
        var job = await engine.RunAsync("""{"1": {"class_type": "Steps", "inputs": {"steps": 2}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        clock.Advance(WorkflowEngine.PreviewRetention - TimeSpan.FromSeconds(1));
        await engine.RunAsync(Quick(1));
        var replay = await engine.EventsAsync(job.Id);
        Assert.That(replay.OfType<NodeProgress>().First().Preview, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public void Advance(TimeSpan by) => _now += by;
        public override DateTimeOffset GetUtcNow() => _now;
    }
}
