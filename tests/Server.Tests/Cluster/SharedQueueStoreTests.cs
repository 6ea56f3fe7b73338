using System.Collections.Concurrent;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Storage;
using CharacterGen.Server.Tests.Storage;
using Npgsql;

namespace CharacterGen.Server.Tests.Cluster;

/// <summary>
/// The shared queue's rules on a throwaway PostgreSQL (a visible skip without one, a failure on CI): run order, no
/// job claimed twice under concurrent claimers, an expired lease re-queues the job, and the fence: a worker that lost
/// its lease can neither complete the job nor store its events.
/// </summary>
[TestFixture]
public sealed class SharedQueueStoreTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);
    private string _connection = null!;
    private PostgresJobStore _store = null!;

    [SetUp]
    public void CreateDatabase()
    {
        _connection = PostgresServer.Require().CreateDatabase();
        _store = new PostgresJobStore(_connection);
    }

    [TearDown]
    public void CloseStore() => _store.Dispose();

    private static StoredJob Pending(string id, double number, long order) => new()
    {
        Id = id, Order = order, Number = number, Workflow = "{}", ExtraData = "{}", Status = JobStatus.Pending, CreatedAt = DateTimeOffset.UtcNow,
    };

    private static StoredJob Succeeded(StoredJob job) =>
        job with { Status = JobStatus.Succeeded, FinishedAt = DateTimeOffset.UtcNow, Outputs = "{}", Timings = "[]" };

    private void Add(StoredJob job) => _store.AddQueued(job, new StoredEvent(1, "{\"kind\":\"queued\",\"position\":0,\"t\":0}"));

    [Test]
    public void Claims_follow_run_order_front_first_and_each_job_once()
    {
        Add(Pending("b", 2, 2));
        Add(Pending("a", 1, 1));
        Add(Pending("front", -3, 3));
        var order = Enumerable.Range(0, 4).Select(_ => _store.Claim("w", Long)?.Job.Id).ToArray();
        Assert.That(order, Is.EqualTo(new[] { "front", "a", "b", null }));
        Assert.That(_store.Find("a")!.Status, Is.EqualTo(JobStatus.Running));
        Assert.That(_store.PendingCount(), Is.Zero);
    }

    [Test]
    public void Concurrent_claimers_share_out_every_job_exactly_once()
    {
        const int jobs = 120;
        for (var i = 0; i < jobs; i++) Add(Pending($"j{i}", i, i));
        var ranBy = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var me = $"w{w}";
            while (_store.Claim(me, Long) is { } claimed)
            {
                ranBy.GetOrAdd(claimed.Job.Id, _ => []).Add(me);
                Assert.That(_store.Complete(Succeeded(claimed.Job), me, [new StoredEvent(2, "{}")], historySize: 1000), Is.True);
            }
        })).ToArray();
        Task.WaitAll(workers);
        Assert.That(ranBy.Keys, Has.Count.EqualTo(jobs));
        Assert.That(ranBy.Values.Where(v => v.Count != 1), Is.Empty, "a job was claimed twice");
        Assert.That(((ISharedJobStore)_store).Finished(1000), Has.Count.EqualTo(jobs));
        Assert.That(_store.Unfinished(), Is.Empty);
    }

    [Test]
    public void An_expired_lease_requeues_the_job_and_fences_out_the_old_worker()
    {
        Add(Pending("j", 1, 1));
        var first = _store.Claim("dead", TimeSpan.FromMilliseconds(300))!;
        _store.AppendEvents("j", "dead", [new StoredEvent(2, "{\"by\":\"dead\"}")]);
        Assert.That(_store.Claim("other", Long), Is.Null, "a held lease is not claimable");

        Thread.Sleep(600);
        var second = _store.Claim("alive", Long)!;
        Assert.That(second.Job.Id, Is.EqualTo("j"));
        Assert.That(second.LastEventSequence, Is.EqualTo(2), "the new run's events continue after the stored ones");

        // The first worker comes back: its heartbeat, events and completion are refused.
        Assert.That(_store.Renew("j", "dead", Long), Is.EqualTo(LeaseState.Lost));
        _store.AppendEvents("j", "dead", [new StoredEvent(3, "{\"by\":\"dead\"}")]);
        Assert.That(_store.Complete(Succeeded(first.Job), "dead", [new StoredEvent(4, "{}")], 1000), Is.False);
        Assert.That(_store.Events("j", 2), Is.Empty);

        _store.AppendEvents("j", "alive", [new StoredEvent(3, "{\"by\":\"alive\"}")]);
        Assert.That(_store.Complete(Succeeded(second.Job), "alive", [new StoredEvent(4, "{\"end\":1}")], 1000), Is.True);
        Assert.That(_store.Events("j", 0).Select(e => e.Sequence), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
        Assert.That(_store.Events("j", 2).Select(e => e.Body), Is.EqualTo(new[] { "{\"by\":\"alive\"}", "{\"end\":1}" }));
        Assert.That(_store.Complete(Succeeded(second.Job), "alive", [], 1000), Is.False, "a finished job completes once");

        using var connection = new NpgsqlConnection(_connection);
        connection.Open();
        using var row = new NpgsqlCommand("SELECT claimed_by, attempts, state FROM jobs WHERE id = 'j'", connection).ExecuteReader();
        Assert.That(row.Read(), Is.True);
        Assert.That((row.GetString(0), row.GetInt64(1), row.GetString(2)), Is.EqualTo(("alive", 2L, "succeeded")));
    }

    [Test]
    public void A_renewed_lease_holds_and_a_released_job_goes_back_to_the_queue()
    {
        Add(Pending("j", 1, 1));
        Assert.That(_store.Claim("w", TimeSpan.FromMilliseconds(400)), Is.Not.Null);
        for (var i = 0; i < 4; i++)
        {
            Thread.Sleep(200);
            Assert.That(_store.Renew("j", "w", TimeSpan.FromMilliseconds(400)), Is.EqualTo(LeaseState.Held));
        }
        Assert.That(_store.Claim("other", Long), Is.Null, "renewals kept the lease");

        Assert.That(_store.RequestCancel("j"), Is.True);
        Assert.That(_store.Renew("j", "w", Long), Is.EqualTo(LeaseState.CancelRequested));

        _store.Release("j", "w");
        Assert.That(_store.Find("j")!.Status, Is.EqualTo(JobStatus.Pending));
        Assert.That(_store.Claim("other", Long)!.Job.Id, Is.EqualTo("j"));
    }

    [Test]
    public void Completion_prunes_history_with_its_events_and_pending_jobs_cancel()
    {
        for (var i = 0; i < 5; i++) Add(Pending($"j{i}", i, i));
        Assert.That(_store.CancelPending("j4", DateTimeOffset.UtcNow), Is.True);
        Assert.That(_store.CancelPending("j4", DateTimeOffset.UtcNow), Is.False);
        for (var i = 0; i < 4; i++)
        {
            var claimed = _store.Claim("w", Long)!;
            Assert.That(_store.Complete(Succeeded(claimed.Job) with { FinishedAt = DateTimeOffset.UtcNow.AddSeconds(i + 1) }, "w", [], historySize: 2), Is.True);
        }
        var kept = ((ISharedJobStore)_store).Finished(10).Select(j => j.Id).ToArray();
        Assert.That(kept, Is.EqualTo(new[] { "j2", "j3" }));
        Assert.That(_store.Events("j0", 0), Is.Empty, "a pruned job's events go with it");
        Assert.That(_store.Events("j3", 0), Has.Count.EqualTo(1));
    }

    [Test]
    public void Listeners_hear_queued_jobs_and_stored_events_from_another_connection()
    {
        var heard = new BlockingCollection<SharedChange>();
        using var other = new PostgresJobStore(_connection);
        other.Changed += heard.Add;
        // The listener connects in the background; it announces itself once with an empty job id.
        Assert.That(heard.TryTake(out var first, TimeSpan.FromSeconds(20)) && first.JobId == "", Is.True);
        while (heard.TryTake(out _, TimeSpan.FromMilliseconds(100))) { }

        Add(Pending("j", 1, 1));
        Assert.That(heard.TryTake(out var queued, TimeSpan.FromSeconds(20)), Is.True);
        Assert.That(queued, Is.EqualTo(new SharedChange(SharedChangeKind.JobQueued, "j")));
        _store.Claim("w", Long);
        _store.AppendEvents("j", "w", [new StoredEvent(2, "{}")]);
        Assert.That(heard.TryTake(out var stored, TimeSpan.FromSeconds(20)), Is.True);
        Assert.That(stored, Is.EqualTo(new SharedChange(SharedChangeKind.EventsStored, "j")));
    }
}
