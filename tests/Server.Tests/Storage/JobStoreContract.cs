using System.Data.Common;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Storage;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// What every <see cref="IJobStore"/> must do, run against each implementation (SQLite always, PostgreSQL when a
/// cluster can be started). Reopening makes a new store over the same database, as a restarted server would.
/// </summary>
public abstract class JobStoreContract
{
    private readonly List<SqlJobStore> _open = [];

    /// <summary>A store over this test's database (the same database on every call within a test).</summary>
    protected abstract SqlJobStore OpenStore();

    /// <summary>A connection to this test's database, for checks behind the store's back.</summary>
    protected abstract DbConnection OpenRaw();

    protected SqlJobStore Open()
    {
        var store = OpenStore();
        _open.Add(store);
        return store;
    }

    [TearDown]
    public void CloseStores()
    {
        foreach (var store in _open) store.Dispose();
        _open.Clear();
    }

    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);

    private static StoredJob Pending(string id, long order, double? number = null, string? requestId = null) => new()
    {
        Id = id,
        Order = order,
        Number = number ?? order,
        ClientRequestId = requestId,
        Workflow = """{"1":{"class_type":"Const","inputs":{"value":7}}}""",
        ExtraData = """{"client_id":"c1","extra_pnginfo":{"workflow":{"nodes":[]}}}""",
        Status = JobStatus.Pending,
        CreatedAt = T0.AddTicks(order * 1_234_567),
    };

    private static StoredJob Finished(StoredJob job, JobStatus status, int minute) => job with
    {
        Status = status,
        StartedAt = T0.AddMinutes(minute).AddTicks(-3),
        FinishedAt = T0.AddMinutes(minute).AddTicks(17),
        Outputs = """{"9":{"images":[{"filename":"ComfyUI_00001_.png","subfolder":"","type":"output"}]}}""",
        Error = status == JobStatus.Failed ? """{"node_id":"1","class_type":"Const","type":"ValueError","message":"bad","inputs":{}}""" : null,
        Timings = """[{"node_id":"1","class_type":"Const","cached":false,"ticks":12345}]""",
        CancelledAtNode = status == JobStatus.Cancelled ? "1" : null,
    };

    [Test]
    public void A_new_store_is_empty_and_at_the_latest_schema_version()
    {
        var store = Open();
        Assert.That(store.Load().Unfinished, Is.Empty);
        Assert.That(store.Load().Finished, Is.Empty);
        Assert.That(store.SchemaVersion(), Is.EqualTo(JobStoreSchema.LatestVersion));
    }

    [Test]
    public void An_added_job_comes_back_field_for_field_after_reopening()
    {
        var job = Pending("a", 1, number: -1.5, requestId: "req") with { OutputTargets = """["9"]""" };
        Open().Add(job);
        var loaded = Open().Load();
        Assert.That(loaded.Unfinished, Is.EqualTo(new[] { job }));
        Assert.That(loaded.Finished, Is.Empty);
    }

    [Test]
    public void Unfinished_jobs_load_in_run_order_and_finished_ones_oldest_first()
    {
        var store = Open();
        store.Add(Pending("late", 1, number: 5));
        store.Add(Pending("front", 2, number: -2));
        store.Add(Pending("tie-second", 4, number: 3));
        store.Add(Pending("tie-first", 3, number: 3));
        store.Add(Pending("done-b", 5));
        store.Add(Pending("done-a", 6));
        store.Finish(Finished(Pending("done-b", 5), JobStatus.Succeeded, 20), []);
        store.Finish(Finished(Pending("done-a", 6), JobStatus.Failed, 10), []);

        var loaded = Open().Load();
        Assert.That(loaded.Unfinished.Select(j => j.Id), Is.EqualTo(new[] { "front", "tie-first", "tie-second", "late" }));
        Assert.That(loaded.Finished.Select(j => j.Id), Is.EqualTo(new[] { "done-a", "done-b" }));
    }

    [Test]
    public void A_running_job_stays_unfinished_with_its_start_time()
    {
        var store = Open();
        store.Add(Pending("a", 1));
        store.MarkRunning("a", T0.AddTicks(42));
        var job = Open().Load().Unfinished.Single();
        Assert.That(job.Status, Is.EqualTo(JobStatus.Running));
        Assert.That(job.StartedAt, Is.EqualTo(T0.AddTicks(42)));
    }

    [TestCase(JobStatus.Succeeded)]
    [TestCase(JobStatus.Failed)]
    [TestCase(JobStatus.Cancelled)]
    public void Finishing_records_the_final_state_and_evicts_in_the_same_write(JobStatus status)
    {
        var store = Open();
        store.Add(Pending("old", 1));
        store.Finish(Finished(Pending("old", 1), JobStatus.Succeeded, 1), []);
        store.Add(Pending("a", 2));
        store.MarkRunning("a", T0);
        var final = Finished(Pending("a", 2), status, 2);
        store.Finish(final, ["old"]);

        var loaded = Open().Load();
        Assert.That(loaded.Unfinished, Is.Empty);
        Assert.That(loaded.Finished, Is.EqualTo(new[] { final }));
    }

    [Test]
    public void Finishing_a_job_the_store_does_not_have_records_it()
    {
        var final = Finished(Pending("ghost", 9), JobStatus.Cancelled, 3);
        Open().Finish(final, []);
        Assert.That(Open().Load().Finished, Is.EqualTo(new[] { final }));
    }

    [Test]
    public void Ids_and_client_request_ids_are_unique_but_many_jobs_have_no_request_id()
    {
        var store = Open();
        store.Add(Pending("a", 1, requestId: "r1"));
        store.Add(Pending("b", 2));
        store.Add(Pending("c", 3));
        Assert.Throws<JobStoreException>(() => store.Add(Pending("a", 4)));
        Assert.Throws<JobStoreException>(() => store.Add(Pending("d", 5, requestId: "r1")));
        Assert.That(store.Load().Unfinished.Select(j => j.Id), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void Deleting_forgets_jobs_and_ignores_unknown_ids()
    {
        var store = Open();
        foreach (var (id, order) in new[] { ("a", 1L), ("b", 2L), ("c", 3L) })
        {
            store.Add(Pending(id, order, requestId: "r-" + id));
            store.Finish(Finished(Pending(id, order, requestId: "r-" + id), JobStatus.Succeeded, (int)order), []);
        }
        store.Delete(["a", "nope"]);
        store.Delete([]);
        Assert.That(Open().Load().Finished.Select(j => j.Id), Is.EqualTo(new[] { "b", "c" }));
        Assert.DoesNotThrow(() => store.Add(Pending("a2", 4, requestId: "r-a")), "a forgotten request id is free again");
    }

    [Test]
    public void Reopening_applies_no_migration_twice_and_a_newer_schema_is_refused()
    {
        Open().Add(Pending("a", 1));
        Assert.That(Open().Migrate(), Is.EqualTo(JobStoreSchema.LatestVersion), "already migrated");
        using (var raw = OpenRaw())
        using (var count = raw.CreateCommand())
        {
            count.CommandText = "SELECT COUNT(*) FROM schema_version";
            Assert.That(Convert.ToInt32(count.ExecuteScalar()), Is.EqualTo(JobStoreSchema.LatestVersion));
            using var future = raw.CreateCommand();
            future.CommandText = $"INSERT INTO schema_version (version, applied_at) VALUES ({JobStoreSchema.LatestVersion + 1}, 0)";
            future.ExecuteNonQuery();
        }
        var e = Assert.Throws<JobStoreException>(() => OpenStore().Dispose());
        Assert.That(e!.Message, Does.Contain("newer than this server"));
    }
}
