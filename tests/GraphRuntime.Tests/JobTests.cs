using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Tests;

public class JobTests
{
    private TestNodes _nodes = null!;

    [SetUp] public void SetUp() => _nodes = new TestNodes();

    [TearDown]
    public void TearDown()
    {
        _nodes.Gate.Set();
        _nodes.Dispose();
    }

    private const string Blocking = """{"1": {"class_type": "Blocker", "inputs": {"value": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";
    private static string Quick(int v) => $$$$"""{"1": {"class_type": "Const", "inputs": {"value": {{{{v}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";

    [Test]
    public async Task A_pending_job_can_be_cancelled_and_never_runs()
    {
        await using var engine = _nodes.Engine();
        var running = engine.Queue(Blocking);
        _nodes.Entered.WaitOrFail();
        var pending = engine.Queue(Quick(7));

        Assert.That(engine.Cancel(pending), Is.True);
        Assert.That(engine.GetJob(pending)!.Status, Is.EqualTo(JobStatus.Cancelled));
        Assert.That(engine.Queue.Pending, Is.Empty);
        _nodes.Gate.Set();
        Assert.That((await engine.WaitAsync(running)).Status, Is.EqualTo(JobStatus.Succeeded));

        var events = await engine.EventsAsync(pending);
        Assert.That(events.Select(e => e.GetType()), Is.EqualTo(new[] { typeof(JobQueued), typeof(JobCancelled) }));
        Assert.That(((JobCancelled)events[1]).NodeId, Is.Null);
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "2" }), "only the first job's nodes ran");
        Assert.That(engine.Cancel(pending), Is.False, "already finished");
    }

    [Test]
    public async Task A_running_job_stops_at_its_next_progress_tick_and_the_next_job_runs()
    {
        await using var engine = _nodes.Engine();
        var running = engine.Queue("""
            {"1": {"class_type": "Steps", "inputs": {"steps": 5}},
             "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
            """);
        _nodes.Entered.WaitOrFail();
        var next = engine.Queue(Quick(3));

        Assert.That(engine.Cancel(running), Is.True);
        _nodes.Gate.Set();
        var job = await engine.WaitAsync(running);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Cancelled));
        Assert.That(job.CancelledAtNode, Is.EqualTo("1"));
        var events = await engine.EventsAsync(running);
        Assert.That(events.OfType<NodeProgress>().Count(), Is.EqualTo(1), "no tick after the cancel");
        Assert.That(((JobCancelled)events.Last()).NodeId, Is.EqualTo("1"));
        Assert.That(events.OfType<JobSucceeded>(), Is.Empty);

        Assert.That((await engine.WaitAsync(next)).Status, Is.EqualTo(JobStatus.Succeeded), "cancelling one job is not a global interrupt");
    }

    [Test]
    public async Task A_running_job_stops_at_the_next_node_boundary()
    {
        await using var engine = _nodes.Engine();
        var id = engine.Queue("""
            {"1": {"class_type": "Blocker", "inputs": {"value": 1}},
             "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 1}},
             "3": {"class_type": "Output", "inputs": {"value": ["2", 0]}}}
            """);
        _nodes.Entered.WaitOrFail();
        engine.Cancel(id);
        var job = await engine.WaitAsync(id);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Cancelled));
        Assert.That(_nodes.Executed, Does.Not.Contain("2"));
    }

    [Test]
    public async Task A_full_queue_refuses_with_a_distinct_status()
    {
        await using var engine = _nodes.Engine(new EngineOptions { QueueCapacity = 2 });
        engine.Queue(Blocking);
        _nodes.Entered.WaitOrFail(); // the running job does not count against the queue
        engine.Queue(Quick(1));
        engine.Queue(Quick(2));

        var refused = engine.Submit(Quick(3));
        Assert.That(refused.Status, Is.EqualTo(SubmitStatus.QueueFull));
        Assert.That(refused.JobId, Is.Null);
        Assert.That(engine.Queue.Pending, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Front_of_queue_jobs_run_first_and_positions_are_reported()
    {
        await using var engine = _nodes.Engine();
        engine.Queue(Blocking);
        _nodes.Entered.WaitOrFail();
        var a = engine.Submit(Quick(1));
        var b = engine.Submit(Quick(2));
        var front = engine.Submit(Quick(3), new SubmitOptions { Front = true });
        Assert.That((a.Position, b.Position, front.Position), Is.EqualTo((0, 1, 0)));
        Assert.That(engine.Queue.Pending.Select(j => j.Id), Is.EqualTo(new[] { front.JobId, a.JobId, b.JobId }));
        Assert.That(((JobQueued)(await FirstEvent(engine, b.JobId!))).Position, Is.EqualTo(1));

        _nodes.Gate.Set();
        await engine.WaitAsync(b.JobId!);
        var finished = engine.History.Select(j => j.Id).ToList();
        Assert.That(finished.IndexOf(front.JobId!), Is.LessThan(finished.IndexOf(a.JobId!)));
    }

    [Test]
    public async Task A_late_subscriber_gets_every_event_from_the_sequence_it_asks_for()
    {
        await using var engine = _nodes.Engine();
        var job = await engine.RunAsync(Quick(1));
        var all = await engine.EventsAsync(job.Id);
        var tail = await engine.EventsAsync(job.Id, from: 4);
        Assert.That(tail, Is.EqualTo(all.Skip(3)));
        Assert.That(tail[0].Sequence, Is.EqualTo(4));
        Assert.That(await engine.EventsAsync(job.Id, from: all.Count + 1), Is.Empty);
    }

    [Test]
    public async Task A_subscriber_that_attaches_mid_run_then_reads_slowly_misses_nothing()
    {
        await using var engine = _nodes.Engine();
        var id = engine.Queue("""{"1": {"class_type": "Steps", "inputs": {"steps": 20}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        _nodes.Entered.WaitOrFail();
        var seen = new List<JobEvent>();
        await using var reader = engine.Subscribe(id, 2).GetAsyncEnumerator();
        Assert.That(await reader.MoveNextAsync());
        seen.Add(reader.Current);
        _nodes.Gate.Set(); // the job runs to the end while this reader is not reading
        await engine.WaitAsync(id);
        while (await reader.MoveNextAsync()) seen.Add(reader.Current);

        Assert.That(seen.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(2, seen.Count).Select(i => (long)i)));
        Assert.That(seen.OfType<NodeProgress>().Count(), Is.EqualTo(20));
        Assert.That(seen.Last(), Is.TypeOf<JobSucceeded>());
    }

    [Test]
    public async Task History_is_bounded_and_keeps_outputs_errors_and_timings()
    {
        await using var engine = _nodes.Engine(new EngineOptions { HistorySize = 2 });
        var first = await engine.RunAsync(Quick(1));
        var failed = await engine.RunAsync("""{"1": {"class_type": "Throw", "inputs": {"value": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        var last = await engine.RunAsync(Quick(3));

        Assert.That(engine.History.Select(j => j.Id), Is.EqualTo(new[] { failed.Id, last.Id }));
        Assert.That(engine.GetJob(first.Id), Is.Null);
        Assert.Throws<KeyNotFoundException>(() => engine.Subscribe(first.Id));
        Assert.That(engine.GetJob(failed.Id)!.Error!.NodeId, Is.EqualTo("1"));
        Assert.That(engine.GetJob(last.Id)!.Outputs["2"]["value"], Is.EqualTo(new List<object?> { 3L }));
        Assert.That(engine.GetJob(last.Id)!.Timings.Select(t => t.NodeId), Is.EqualTo(new[] { "1", "2" }));
    }

    [Test]
    public async Task A_repeated_client_request_id_returns_the_first_job()
    {
        await using var engine = _nodes.Engine();
        var first = engine.Submit(Quick(1), new SubmitOptions { ClientRequestId = "req-1" });
        var again = engine.Submit(Quick(1), new SubmitOptions { ClientRequestId = "req-1" });
        Assert.That(again.JobId, Is.EqualTo(first.JobId));
        Assert.That(again.Existing, Is.True);
        await engine.WaitAsync(first.JobId!);
        Assert.That(engine.History, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_workflow_validated_first_can_be_submitted_without_validating_again()
    {
        await using var engine = _nodes.Engine();
        var validation = engine.Validate(WorkflowFormat.ApiWorkflow.Parse(Quick(5)));
        Assert.That(validation.IsValid);
        var submitted = engine.Submit(validation);
        Assert.That(submitted.Accepted);
        Assert.That((await engine.WaitAsync(submitted.JobId!)).Outputs["2"]["value"], Is.EqualTo(new List<object?> { 5L }));

        var invalid = engine.Validate(WorkflowFormat.ApiWorkflow.Parse("""{"1": {"class_type": "Const", "inputs": {}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}"""));
        Assert.That(engine.Submit(invalid).Status, Is.EqualTo(SubmitStatus.Invalid));
    }

    [Test]
    public async Task Invalid_workflows_are_not_queued()
    {
        await using var engine = _nodes.Engine();
        var r = engine.Submit("""{"1": {"class_type": "Const", "inputs": {"value": 5000}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""");
        Assert.That(r.Status, Is.EqualTo(SubmitStatus.Invalid));
        Assert.That(r.Validation!.NodeErrors["1"].Errors[0].Type, Is.EqualTo("value_bigger_than_max"));
        Assert.That(engine.ListJobs(), Is.Empty);
        Assert.That(_nodes.Executed, Is.Empty);
    }

    [Test]
    public async Task Disposing_the_engine_ends_every_job_so_subscribers_finish()
    {
        var engine = _nodes.Engine();
        var running = engine.Queue(Blocking);
        _nodes.Entered.WaitOrFail();
        var pending = engine.Queue(Quick(1));
        var events = engine.EventsAsync(pending);
        await engine.DisposeAsync();
        Assert.That((await events).Last(), Is.TypeOf<JobCancelled>());
        Assert.That(engine.GetJob(running)!.Status, Is.EqualTo(JobStatus.Cancelled));
    }

    [Test]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EngineOptions { QueueCapacity = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new EngineOptions { CacheSize = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new EngineOptions { CostBudget = double.NaN }.Validate());
        Assert.DoesNotThrow(() => EngineOptions.Default.Validate());
    }

    private static async Task<JobEvent> FirstEvent(WorkflowEngine engine, string id)
    {
        await foreach (var e in engine.Subscribe(id)) return e;
        throw new InvalidOperationException("no events");
    }
}
