using System.Diagnostics;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Storage;
using Npgsql;

// Usage: SharedQueue.Bench ADMIN_CONNECTION [JOBS] [WORKERS...]
// For each worker count: a fresh database, JOBS no-op jobs submitted through an API-role engine, then that many
// worker engines (one per "node", each with its own execution thread and store) drain the queue. Reports claims/s in
// all and per node, and checks that every job finished exactly once (one completion, one attempt, one terminal event).
var admin = args.Length > 0 ? args[0] : throw new ArgumentException("usage: SharedQueue.Bench ADMIN_CONNECTION [JOBS] [WORKERS...]");
var jobs = args.Length > 1 ? int.Parse(args[1]) : 10_000;
int[] workerCounts = args.Length > 2 ? args[2..].Select(int.Parse).ToArray() : [1, 2, 4];

var catalog = new NodeCatalog([
    new NodeBuilder("Source").Required(InputSpec.Int("value", 0)).Output(IoTypes.Int).Execute(static (_, i) => NodeOutput.Of(i["value"])).Build(),
    new NodeBuilder("Sink").OutputNode().Required(InputSpec.Link("x", IoTypes.Any)).Execute(static (_, _) => NodeOutput.Empty).Build(),
]);
const string Workflow = """{"1": {"class_type": "Source", "inputs": {"value": 1}}, "2": {"class_type": "Sink", "inputs": {"x": ["1", 0]}}}""";

Console.WriteLine($"{"workers",7} {"jobs",7} {"seconds",8} {"claims/s",9} {"per node",9}  check");
foreach (var workers in workerCounts)
{
    var database = CreateDatabase(admin, $"cg_bench_{workers}_{Environment.ProcessId}");
    EngineOptions Options(bool claims) => new()
    {
        QueueCapacity = jobs + 1, HistorySize = jobs + 1, CacheSize = 0,
        Shared = new SharedQueueOptions { WorkerId = $"bench-{Guid.NewGuid():N}", Claims = claims, Lease = TimeSpan.FromSeconds(30) },
    };

    using (var apiStore = new PostgresJobStore(database))
    await using (var api = new WorkflowEngine(catalog, Options(claims: false), store: apiStore))
        Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            if (api.Submit(Workflow).Status != SubmitStatus.Queued) throw new InvalidOperationException("a submission was refused");
        });

    var stores = Enumerable.Range(0, workers).Select(_ => new PostgresJobStore(database)).ToArray();
    var clock = Stopwatch.StartNew();
    var engines = stores.Select(s => new WorkflowEngine(catalog, Options(claims: true), store: s)).ToArray();
    while (engines.Sum(e => e.SharedCompletions) < jobs) await Task.Delay(20);
    var seconds = clock.Elapsed.TotalSeconds;
    foreach (var engine in engines) await engine.DisposeAsync();
    foreach (var store in stores) store.Dispose();

    var check = Check(database, jobs);
    Console.WriteLine($"{workers,7} {jobs,7} {seconds,8:F1} {jobs / seconds,9:F0} {jobs / seconds / workers,9:F0}  {check}" +
        $" (per worker: {string.Join(", ", engines.Select(e => e.SharedCompletions))})");
}

static string CreateDatabase(string admin, string name)
{
    using var connection = new NpgsqlConnection(admin);
    connection.Open();
    using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name}", connection)) drop.ExecuteNonQuery();
    using (var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection)) create.ExecuteNonQuery();
    return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();
}

// Exactly once: every job succeeded, in one attempt, with exactly one terminal event and no gap in its events.
static string Check(string database, int jobs)
{
    using var connection = new NpgsqlConnection(database);
    connection.Open();
    using var command = new NpgsqlCommand("""
        SELECT (SELECT COUNT(*) FROM jobs),
               (SELECT COUNT(*) FROM jobs WHERE state = 'succeeded' AND attempts = 1),
               (SELECT COUNT(*) FROM job_events WHERE body LIKE '%"kind":"succeeded"%'),
               (SELECT COUNT(*) FROM (SELECT job_id FROM job_events GROUP BY job_id HAVING MAX(seq) <> COUNT(*)) gaps)
        """, connection);
    using var reader = command.ExecuteReader();
    reader.Read();
    var (all, once, terminals, gaps) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    var ok = all == jobs && once == jobs && terminals == jobs && gaps == 0;
    return $"{(ok ? "ok" : "FAILED")}: {all} jobs, {once} succeeded once, {terminals} terminal events, {gaps} with gaps";
}
