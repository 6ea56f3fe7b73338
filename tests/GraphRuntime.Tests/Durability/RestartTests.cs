using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Tests.Durability;

/// <summary>
/// The engine over a job store: what it writes, and what a new engine over the same store (a restart) rebuilds.
/// Disposing an engine writes nothing more, so it leaves the store as a kill -9 would.
/// </summary>
public class RestartTests
{
    private TestNodes _nodes = null!;
    private MemoryJobStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _nodes = new TestNodes();
        _store = new MemoryJobStore();
    }

    [TearDown]
    public void TearDown()
    {
        _nodes.Gate.Set();
        _nodes.Dispose();
    }

    private const string Blocking = """{"1": {"class_type": "Blocker", "inputs": {"value": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";
    private const string Failing = """{"1": {"class_type": "Throw", "inputs": {"value": 1}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";
    private static string Quick(int v) => $$$$"""{"1": {"class_type": "Const", "inputs": {"value": {{{{v}}}}}}, "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}""";

    private WorkflowEngine Engine(EngineOptions? options = null, TimeProvider? clock = null) =>
        new(_nodes.Catalog, options, clock: clock, store: _store);

    [Test]
    public async Task Finished_jobs_come_back_in_history_with_their_outputs_and_errors()
    {
        string ok, failed;
        await using (var engine = Engine())
        {
            ok = (await engine.RunAsync(Quick(7))).Id;
            failed = (await engine.RunAsync(Failing)).Id;
        }

        await using var restarted = Engine();
        Assert.That(restarted.History.Select(j => j.Id), Is.EqualTo(new[] { ok, failed }));
        var job = restarted.GetJob(ok)!;
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(((JsonNode)job.Outputs["2"]["value"]!).ToJsonString(), Is.EqualTo("[7]"));
        Assert.That(job.OutputNodeIds, Is.EqualTo(new[] { "2" }));
        Assert.That(job.Workflow.ClassType("1"), Is.EqualTo("Const"));
        Assert.That(job.StartedAt, Is.Not.Null);
        Assert.That(job.Timings.Select(t => t.NodeId), Is.EqualTo(new[] { "1", "2" }));

        var error = restarted.GetJob(failed)!;
        Assert.That(error.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(error.Error!.Message, Is.EqualTo("boom"));
        Assert.That(error.Error.NodeId, Is.EqualTo("1"));
        Assert.That((await restarted.WaitAsync(failed)).Status, Is.EqualTo(JobStatus.Failed), "a restored job's event stream ends");
        Assert.That(_nodes.Executed, Is.EqualTo(new[] { "1", "2", "1" }), "nothing ran again");
    }

    [Test]
    public async Task Pending_jobs_run_again_in_their_order_after_the_job_that_was_running()
    {
        string running, first, second, front;
        await using (var engine = Engine())
        {
            running = engine.Queue(Blocking);
            _nodes.Entered.WaitOrFail();
            first = engine.Queue(Quick(1));
            second = engine.Queue(Quick(2));
            front = engine.Queue(Quick(3), new SubmitOptions { Front = true });
        }
        Assert.That(_store[running]!.Status, Is.EqualTo(JobStatus.Running), "stopping records no cancellation");
        Assert.That(_store[first]!.Status, Is.EqualTo(JobStatus.Pending));

        _nodes.Gate.Set();
        await using var restarted = Engine();
        foreach (var id in new[] { running, first, second, front })
            Assert.That((await restarted.WaitAsync(id)).Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(restarted.History.Select(j => j.Id), Is.EqualTo(new[] { running, front, first, second }));
        Assert.That(_store[running]!.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(restarted.GetJob(second)!.Outputs["2"]["value"], Is.EqualTo(new List<object?> { 2L }), "it ran in the new engine");
    }

    [Test]
    public async Task A_client_request_id_still_deduplicates_after_a_restart()
    {
        string id;
        await using (var engine = Engine())
            id = (await engine.RunAsync(Quick(4), new SubmitOptions { ClientRequestId = "req-1" })).Id;

        await using var restarted = Engine();
        var again = restarted.Submit(Quick(5), new SubmitOptions { ClientRequestId = "req-1" });
        Assert.That(again.Existing, Is.True);
        Assert.That(again.JobId, Is.EqualTo(id));
        Assert.That(restarted.Queue.Pending, Is.Empty);
        Assert.That(_store.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task A_submission_the_store_cannot_write_is_refused_and_not_queued()
    {
        await using var engine = Engine();
        _store.FailWrites = true;
        Assert.Throws<JobStoreException>(() => engine.Submit(Quick(1)));
        Assert.That(engine.ListJobs(), Is.Empty);
        _store.FailWrites = false;
        Assert.That((await engine.RunAsync(Quick(1))).Status, Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task A_later_write_that_fails_is_reported_and_the_job_goes_on()
    {
        await using var engine = Engine();
        var failures = new List<string>();
        engine.StoreWriteFailed += (id, _) => failures.Add(id);
        var id = engine.Queue(Blocking);
        _nodes.Entered.WaitOrFail();
        _store.FailWrites = true;
        _nodes.Gate.Set();
        Assert.That((await engine.WaitAsync(id)).Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(failures, Is.EqualTo(new[] { id }));
        Assert.That(_store[id]!.Status, Is.EqualTo(JobStatus.Running), "after a crash it would run again");
    }

    [Test]
    public async Task History_bounds_evict_from_the_store_by_count()
    {
        await using var engine = Engine(new EngineOptions { HistorySize = 2 });
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await engine.RunAsync(Quick(i))).Id);
        Assert.That(_store.Count, Is.EqualTo(2));
        Assert.That(_store[ids[0]], Is.Null);
        Assert.That(_store[ids[2]]!.Status, Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task History_bounds_evict_by_age_when_a_job_finishes_and_at_start_up()
    {
        var clock = new ManualClock();
        string old, recent;
        await using (var engine = Engine(new EngineOptions { HistoryMaxAge = TimeSpan.FromHours(1) }, clock))
        {
            old = (await engine.RunAsync(Quick(1))).Id;
            clock.Advance(TimeSpan.FromMinutes(90));
            recent = (await engine.RunAsync(Quick(2))).Id;
            Assert.That(engine.GetJob(old), Is.Null);
            Assert.That(_store[old], Is.Null);
        }

        clock.Advance(TimeSpan.FromMinutes(90));
        await using var restarted = Engine(new EngineOptions { HistoryMaxAge = TimeSpan.FromHours(1) }, clock);
        Assert.That(restarted.GetJob(recent), Is.Null);
        Assert.That(_store.Count, Is.EqualTo(0));
    }

    [Test]
    public async Task Cancelling_and_deleting_are_recorded()
    {
        await using var engine = Engine();
        var running = engine.Queue(Blocking);
        _nodes.Entered.WaitOrFail();
        var pending = engine.Queue(Quick(1));
        Assert.That(engine.Cancel(pending), Is.True);
        Assert.That(_store[pending]!.Status, Is.EqualTo(JobStatus.Cancelled));
        Assert.That(engine.Cancel(running), Is.True);
        Assert.That((await engine.WaitAsync(running)).Status, Is.EqualTo(JobStatus.Cancelled));
        Assert.That(_store[running]!.Status, Is.EqualTo(JobStatus.Cancelled), "a client's cancel is final");

        engine.DeleteHistory([pending]);
        Assert.That(_store[pending], Is.Null);
        Assert.That(_store[running], Is.Not.Null);
    }

    [Test]
    public async Task A_restored_job_that_no_longer_validates_fails_naming_the_problem()
    {
        string pending;
        await using (var engine = Engine())
        {
            engine.Queue(Blocking);
            _nodes.Entered.WaitOrFail();
            pending = engine.Queue("""
                {"1": {"class_type": "LoadModel", "inputs": {"ckpt_name": "a.safetensors"}},
                 "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
                """);
        }
        _nodes.Models.Remove("a.safetensors");
        _nodes.Gate.Set();

        await using var restarted = Engine();
        var job = await restarted.WaitAsync(pending);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error!.NodeId, Is.EqualTo("1"));
        Assert.That(job.Error.Message, Does.Contain("a.safetensors"));
        Assert.That(_store[pending]!.Status, Is.EqualTo(JobStatus.Failed));
    }

    [Test]
    public async Task Restored_jobs_keep_their_numbers_and_new_ones_queue_behind_them()
    {
        string a, b;
        await using (var engine = Engine())
        {
            engine.Queue(Blocking);
            _nodes.Entered.WaitOrFail();
            a = engine.Queue(Quick(1));
            b = engine.Queue(Quick(2));
        }
        var numbers = new[] { _store[a]!.Number, _store[b]!.Number };

        await using var restarted = Engine();
        var c = restarted.Queue(Quick(3));
        Assert.That(restarted.GetJob(c)!.Number, Is.GreaterThan(numbers.Max()));
        Assert.That(new[] { restarted.GetJob(a)!.Number, restarted.GetJob(b)!.Number }, Is.EqualTo(numbers));
        _nodes.Gate.Set();
        await restarted.WaitAsync(c);
        Assert.That(restarted.History.Select(j => j.Id).TakeLast(3), Is.EqualTo(new[] { a, b, c }));
    }

    [Test]
    public async Task A_ui_value_that_is_not_json_is_stored_as_its_type_name()
    {
        string id;
        await using (var engine = Engine())
            id = (await engine.RunAsync("""
                {"1": {"class_type": "MakeTracked", "inputs": {"value": 3}},
                 "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
                """)).Id;
        Assert.That(_store[id]!.Outputs, Is.EqualTo("""{"2":{"value":["TrackedValue"]}}"""));
        await using var restarted = Engine();
        Assert.That(((JsonNode)restarted.GetJob(id)!.Outputs["2"]["value"]!).ToJsonString(), Is.EqualTo("""["TrackedValue"]"""));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public void Advance(TimeSpan by) => _now += by;
        public override DateTimeOffset GetUtcNow() => _now;
    }
}
