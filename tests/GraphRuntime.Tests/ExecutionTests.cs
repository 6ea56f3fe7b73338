using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Tests;

public class ExecutionTests
{
    private TestNodes _nodes = null!;
    private WorkflowEngine _engine = null!;

    [SetUp]
    public void SetUp()
    {
        _nodes = new TestNodes();
        _engine = _nodes.Engine();
    }

    [TearDown]
    public async Task TearDown()
    {
        _nodes.Gate.Set();
        await _engine.DisposeAsync();
        _nodes.Dispose();
    }

    private static object? Ui(JobSnapshot job, string nodeId, string key = "value") =>
        ((List<object?>)job.Outputs[nodeId][key]!)[0];

    [Test]
    public async Task Only_nodes_reachable_from_outputs_run_in_topological_order()
    {
        var job = await _engine.RunAsync("""
            {"5": {"class_type": "Output", "inputs": {"value": ["4", 0]}},
             "4": {"class_type": "Add", "inputs": {"a": ["2", 0], "b": ["3", 0]}},
             "3": {"class_type": "Const", "inputs": {"value": 3}},
             "2": {"class_type": "Const", "inputs": {"value": 2}},
             "9": {"class_type": "Const", "inputs": {"value": 9}},
             "10": {"class_type": "Throw", "inputs": {"value": ["9", 0]}}}
            """);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(Ui(job, "5"), Is.EqualTo(5L));
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "2", "3", "4", "5" }));
        Assert.That(job.Timings.Select(t => t.NodeId), Is.EqualTo(new[] { "2", "3", "4", "5" }));
    }

    [Test]
    public async Task The_event_stream_is_ordered_and_numbered_from_one()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Const", "inputs": {"value": 2}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
            """);
        var events = await _engine.EventsAsync(job.Id);
        Assert.That(events.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, events.Count).Select(i => (long)i)));
        Assert.That(events.All(e => e.JobId == job.Id));
        Assert.That(events.Select(e => e.GetType().Name), Is.EqualTo(new[]
        {
            nameof(JobQueued), nameof(JobStarted), nameof(NodesCached), nameof(NodeStarted), nameof(NodeFinished),
            nameof(NodeStarted), nameof(NodeFinished), nameof(JobSucceeded),
        }));
        Assert.That(((JobQueued)events[0]).Position, Is.Zero);
        Assert.That(events.OfType<NodeStarted>().Select(e => (e.NodeId, e.ClassType)), Is.EqualTo(new[] { ("1", "Const"), ("2", "Output") }));
        var finished = events.OfType<NodeFinished>().Last();
        Assert.That(((List<object?>)finished.Ui!["value"]!)[0], Is.EqualTo(2L));
    }

    [Test]
    public async Task Progress_ticks_carry_value_max_and_preview()
    {
        _nodes.Gate.Set();
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Steps", "inputs": {"steps": 3}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
            """);
        var progress = (await _engine.EventsAsync(job.Id)).OfType<NodeProgress>().ToList();
        Assert.That(progress.Select(p => (p.NodeId, p.Value, p.Max)), Is.EqualTo(new[] { ("1", 1.0, 3.0), ("1", 2.0, 3.0), ("1", 3.0, 3.0) }));
        Assert.That(progress[0].Preview, Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(progress[1].Preview, Is.Null);
    }

    [Test]
    public async Task Lazy_inputs_run_only_the_branch_the_node_asks_for()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Const", "inputs": {"value": 1}},
             "2": {"class_type": "Throw", "inputs": {"value": 0}},
             "3": {"class_type": "Switch", "inputs": {"condition": true, "on_true": ["1", 0], "on_false": ["2", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        Assert.That(Ui(job, "4"), Is.EqualTo(1L));
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "3", "4" }));
    }

    [Test]
    public async Task Lazy_inputs_whose_branch_is_chosen_do_run()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Throw", "inputs": {"value": 0}},
             "2": {"class_type": "Const", "inputs": {"value": 7}},
             "3": {"class_type": "Switch", "inputs": {"condition": "false", "on_true": ["1", 0], "on_false": ["2", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(Ui(job, "4"), Is.EqualTo(7L));
        Assert.That(_nodes.Executed, Does.Not.Contain("1"));
    }

    [Test]
    public async Task A_node_is_called_once_per_list_element_and_list_outputs_are_concatenated()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Range", "inputs": {"count": 3}},
             "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 10}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}},
             "4": {"class_type": "SumList", "inputs": {"values": ["2", 0]}},
             "5": {"class_type": "Output", "inputs": {"value": ["4", 0]}}}
            """);
        Assert.That(job.Outputs["3"]["value"], Is.EqualTo(new List<object?> { 11L, 12L, 13L }), "Output called per element, ui merged by key");
        Assert.That(_nodes.Executed.Count(id => id == "2"), Is.EqualTo(3));
        Assert.That(Ui(job, "5"), Is.EqualTo(36L), "an INPUT_IS_LIST node gets the whole list once");
        Assert.That(_nodes.Executed.Count(id => id == "4"), Is.EqualTo(1));
    }

    [Test]
    public async Task Shorter_lists_repeat_their_last_element()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Range", "inputs": {"count": 3}},
             "2": {"class_type": "Range", "inputs": {"count": 2}},
             "3": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": ["2", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(job.Outputs["4"]["value"], Is.EqualTo(new List<object?> { 2L, 4L, 5L }));
    }

    [Test]
    public async Task An_empty_list_calls_nothing_downstream()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Range", "inputs": {"count": 0}},
             "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 1}},
             "3": {"class_type": "SumList", "inputs": {"values": ["2", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(Ui(job, "4"), Is.EqualTo(0L));
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "3", "4" }));
    }

    [Test]
    public async Task Dynamic_inputs_reach_the_node_in_json_key_order()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Const", "inputs": {"value": 1}},
             "2": {"class_type": "Const", "inputs": {"value": 2}},
             "3": {"class_type": "Concat", "inputs": {"value3": ["2", 0], "value1": ["1", 0], "value2": ["1", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(Ui(job, "4"), Is.EqualTo("value1=1,value3=2,value2=1"));
    }

    [Test]
    public async Task Hidden_inputs_carry_prompt_extra_pnginfo_and_unique_id()
    {
        var job = await _engine.RunAsync("""{"h7": {"class_type": "Hidden", "inputs": {"value": 1}}}""",
            new SubmitOptions { ExtraData = new JsonObject { ["extra_pnginfo"] = new JsonObject { ["workflow"] = "w" } } });
        var ui = job.Outputs["h7"];
        Assert.That(ui["unique_id"], Is.EqualTo("h7"), ui["unique_id"]?.GetType().FullName);
        Assert.That(ui["prompt_nodes"], Is.EqualTo(1));
        Assert.That(ui["pnginfo"], Is.EqualTo("""{"workflow":"w"}"""));
    }

    [Test]
    public async Task A_node_failure_names_the_node_keeps_earlier_outputs_and_leaves_the_engine_ready()
    {
        var job = await _engine.RunAsync("""
            {"1": {"class_type": "Const", "inputs": {"value": 4}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}},
             "3": {"class_type": "Throw", "inputs": {"value": ["1", 0]}},
             "4": {"class_type": "Output", "inputs": {"value": ["3", 0]}}}
            """);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error!.NodeId, Is.EqualTo("3"));
        Assert.That(job.Error.ClassType, Is.EqualTo("Throw"));
        Assert.That(job.Error.ErrorType, Is.EqualTo(nameof(InvalidOperationException)));
        Assert.That(job.Error.Message, Is.EqualTo("boom"));
        Assert.That(job.Error.InputsSummary["value"], Is.EqualTo("Int64 from node 1 output 0"));
        Assert.That(Ui(job, "2"), Is.EqualTo(4L), "outputs produced before the failure are kept");

        var failed = (await _engine.EventsAsync(job.Id)).Last();
        Assert.That(failed, Is.TypeOf<JobFailed>());
        Assert.That(((JobFailed)failed).NodeId, Is.EqualTo("3"));
        Assert.That(((JobFailed)failed).Message, Is.EqualTo("boom"));

        var next = await _engine.RunAsync("""{"1": {"class_type": "Const", "inputs": {"value": 5}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(next.Status, Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task Every_node_call_of_a_job_runs_on_the_execution_thread()
    {
        var thread = new RecordingThread();
        await using var engine = new WorkflowEngine(_nodes.Catalog, executionThread: thread);
        var job = await engine.RunAsync("""{"1": {"class_type": "Const", "inputs": {"value": 5}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(thread.Calls, Is.GreaterThanOrEqualTo(1));
        thread.Dispose();
    }

    private sealed class RecordingThread : IExecutionThread
    {
        private readonly DedicatedExecutionThread _inner = new("test-execution");
        public int Calls;
        public Task RunAsync(Action work)
        {
            Interlocked.Increment(ref Calls);
            return _inner.RunAsync(work);
        }
        public void Dispose() => _inner.Dispose();
    }
}
