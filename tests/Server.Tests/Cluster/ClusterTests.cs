using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Hosting;
using ComfySocket = CharacterGen.Server.Tests.ComfyApi.Support.ComfySocket;
using CharacterGen.Server.Tests.Storage;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Microsoft.Extensions.DependencyInjection;
using Case = CharacterGen.Protos.V1.JobEvent.EventOneofCase;

namespace CharacterGen.Server.Tests.Cluster;

/// <summary>
/// Three servers in this process on one throwaway PostgreSQL database and one shared data folder: an API node that
/// never runs jobs and two workers, each with the test node catalogue and a 2 s claim lease. Jobs submitted to any
/// node over gRPC or POST /prompt run once on a worker; the API node streams their events (gRPC Watch, ComfyUI
/// WebSocket), cancels them, and reports NOT_SERVING while the database is down.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ClusterTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60); // a hang guard, not a timing assertion
    private string _shared = null!;
    private WorkflowServer _api = null!, _worker1 = null!, _worker2 = null!;

    private WorkflowServer[] Workers => [_worker1, _worker2];

    [SetUp]
    public async Task StartNodes()
    {
        var database = PostgresServer.Require().CreateDatabase();
        _shared = Directory.CreateTempSubdirectory("cg-cluster-").FullName;
        Task<WorkflowServer> Start(ServerRole role) => WorkflowServer.StartAsync(configure: o => o with
        {
            Database = database,
            DataDir = _shared,
            ShutdownTimeoutSeconds = 4, // drain: the running job may go on for 1 s, then it is handed back
            Cluster = new ClusterOptions { Role = role, LeaseSeconds = 2 },
        });
        _api = await Start(ServerRole.Api);
        _worker1 = await Start(ServerRole.Worker);
        _worker2 = await Start(ServerRole.Worker);
    }

    [TearDown]
    public async Task StopNodes()
    {
        foreach (var node in new[] { _api, _worker1, _worker2 }) node.Gates.ReleaseAll();
        foreach (var node in new[] { _api, _worker1, _worker2 }) await node.DisposeAsync();
        Directory.Delete(_shared, recursive: true);
    }

    private static async Task<string> PostPromptAsync(WorkflowServer node, string workflow, string? clientId = null)
    {
        using var http = new HttpClient { BaseAddress = node.HttpAddress };
        var body = new JsonObject { ["prompt"] = JsonNode.Parse(workflow) };
        if (clientId is not null) body["client_id"] = clientId;
        using var response = await http.PostAsync("/prompt", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That((int)response.StatusCode, Is.EqualTo(200), answer.ToJsonString());
        return answer["prompt_id"]!.GetValue<string>();
    }

    private static async Task<WorkflowServer> RunningOnAsync(WorkflowServer[] workers, string gate)
    {
        var entered = workers.Select(w => w.Gates.Entered(gate)).ToArray();
        var first = await Task.WhenAny(entered).WaitAsync(Hang);
        return workers[Array.IndexOf(entered, first)];
    }

    [Test]
    public async Task Jobs_submitted_to_any_node_over_both_transports_run_exactly_once_and_only_on_workers()
    {
        const int jobs = 24;
        var nodes = new[] { _api, _worker1, _worker2 };
        var ids = new List<string>();
        for (var i = 0; i < jobs; i++)
        {
            var node = nodes[i % 3];
            var workflow = TestWorkflows.Pipeline(i, steps: 1, prefix: $"job{i}");
            ids.Add(i % 2 == 0 ? (await new WorkflowsClient(node.Client).SubmitAsync(workflow)).JobId : await PostPromptAsync(node, workflow));
        }
        foreach (var id in ids)
            Assert.That((await _api.Engine.WaitAsync(id).WaitAsync(Hang)).Status, Is.EqualTo(JobStatus.Succeeded));

        Assert.That(_api.Engine.SharedCompletions, Is.Zero, "the API node ran a job");
        Assert.That(Workers.Select(w => w.Engine.SharedCompletions), Has.All.GreaterThan(0), "a worker ran nothing");
        Assert.That(Workers.Sum(w => w.Engine.SharedCompletions), Is.EqualTo(jobs));
        Assert.That(_worker2.Engine.History.Select(j => j.Id), Is.EquivalentTo(ids), "every node sees the whole history");

        // One file per job in the shared output folder, and /view serves it from the API node, which ran none.
        var files = Directory.GetFiles(Path.Combine(_shared, "output")).Select(Path.GetFileName).ToArray();
        Assert.That(files, Has.Length.EqualTo(jobs));
        var first = _api.Engine.GetJob(ids[0])!;
        var image = (IReadOnlyDictionary<string, object?>)((IEnumerable<object?>)first.Outputs["3"]["images"]!).First()!; // plain values, as a live run has them
        using var http = new HttpClient { BaseAddress = _api.HttpAddress };
        var bytes = await http.GetByteArrayAsync($"/view?filename={image["filename"]}&type=output");
        Assert.That(bytes, Is.EqualTo(TestNodes.FileContent(0L)));
    }

    [Test]
    public async Task The_api_node_streams_a_job_run_by_a_worker_over_watch_and_the_websocket()
    {
        var gate = Guid.NewGuid().ToString("N");
        await using var socket = await ComfySocket.ConnectAsync(new Uri($"ws://127.0.0.1:{_api.HttpAddress.Port}/ws?clientId=watcher"));
        var id = await PostPromptAsync(_api, TestWorkflows.Pipeline(5, steps: 3, gate: gate), clientId: "watcher");
        var worker = await RunningOnAsync(Workers, gate);

        var watching = new WorkflowsClient(_api.Client).StreamAsync("Watch", new WatchRequest { JobId = id });
        await Task.Delay(300); // the watch is live before the job goes on
        worker.Gates.Release(gate);
        var (events, result) = await watching.WaitAsync(Hang);

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(events.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, events.Count).Select(i => (long)i)), "gaps or duplicates");
        Assert.That(events[0].EventCase, Is.EqualTo(Case.Queued));
        Assert.That(events[1].EventCase, Is.EqualTo(Case.Started));
        Assert.That(events[^1].EventCase, Is.EqualTo(Case.Succeeded));
        Assert.That(events.Count(e => e.EventCase == Case.NodeProgress), Is.EqualTo(3));
        Assert.That(events.Where(e => e.EventCase == Case.NodeFinished).Select(e => e.NodeFinished.NodeId), Is.EqualTo(new[] { "1", "2", "3" }));

        var frames = await socket.ReadUntilFinishedAsync(id);
        var types = frames.Where(f => !f.IsBinary).Select(f => f.Type).ToList();
        Assert.That(types, Does.Contain("execution_start").And.Contain("progress").And.Contain("executed").And.Contain("execution_success"));
        Assert.That(types.IndexOf("execution_success"), Is.GreaterThan(types.LastIndexOf("executed")));
    }

    [Test]
    public async Task A_job_running_on_a_worker_is_cancelled_through_the_api_node()
    {
        var gate = Guid.NewGuid().ToString("N");
        var id = (await new WorkflowsClient(_api.Client).SubmitAsync(TestWorkflows.Pipeline(1, gate: gate))).JobId;
        await RunningOnAsync(Workers, gate);
        Assert.That(_api.Engine.Cancel(id), Is.True);
        Assert.That((await _api.Engine.WaitAsync(id).WaitAsync(Hang)).Status, Is.EqualTo(JobStatus.Cancelled));
    }

    [Test]
    public async Task The_queue_on_the_api_node_lists_the_jobs_running_on_both_workers()
    {
        var gates = new[] { Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N") };
        var ids = new List<string>();
        foreach (var gate in gates) ids.Add((await new WorkflowsClient(_api.Client).SubmitAsync(TestWorkflows.Pipeline(1, gate: gate))).JobId);
        foreach (var gate in gates) await RunningOnAsync(Workers, gate);

        using var http = new HttpClient { BaseAddress = _api.HttpAddress };
        var queue = JsonNode.Parse(await http.GetStringAsync("/queue"))!;
        var running = queue["queue_running"]!.AsArray().Select(item => item![1]!.GetValue<string>()).ToArray();
        Assert.That(running, Is.EquivalentTo(ids));
        Assert.That(queue["queue_pending"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task A_stopping_worker_hands_its_job_back_and_the_other_worker_finishes_it()
    {
        var gate = Guid.NewGuid().ToString("N");
        var id = (await new WorkflowsClient(_api.Client).SubmitAsync(TestWorkflows.Pipeline(4, gate: gate, prefix: "drain"))).JobId;
        var first = await RunningOnAsync(Workers, gate);
        var other = first == _worker1 ? _worker2 : _worker1;

        // What SIGTERM does first (ShutdownGuard): stop the engine, which stops claiming, lets the job run for the drain
        // time (1 s here; the gate holds it), then cancels it and hands it back.
        await first.Engine.DisposeAsync().AsTask().WaitAsync(Hang);
        Assert.That(first.Engine.SharedCompletions, Is.Zero);
        await other.Gates.Entered(gate).WaitAsync(Hang);
        other.Gates.Release(gate);

        var done = await _api.Engine.WaitAsync(id).WaitAsync(Hang);
        Assert.That(done.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(other.Engine.SharedCompletions, Is.EqualTo(1));
        Assert.That(_api.Engine.History.Count(j => j.Id == id), Is.EqualTo(1));
        Assert.That(Directory.GetFiles(Path.Combine(_shared, "output"), "drain_*"), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task While_the_database_is_down_nodes_are_not_ready_and_refuse_work_then_recover_without_restart()
    {
        var postgres = PostgresServer.Require();
        var ready = _api.Services.GetRequiredService<ReadyConditions>();
        var workflows = new WorkflowsClient(_api.Client);
        postgres.Pause();
        try
        {
            var down = DateTime.UtcNow;
            while (!ready.Problems().ContainsKey("database")) await Task.Delay(100).WaitAsync(Hang);

            var refused = await workflows.CallAsync("Submit", new SubmitRequest { Workflow = new WorkflowSpec { WorkflowJson = TestWorkflows.Pipeline(1) } });
            Assert.That(refused.Status, Is.EqualTo(StatusCode.Unavailable), refused.StatusMessage);
            using var http = new HttpClient { BaseAddress = _api.HttpAddress };
            using var response = await http.PostAsync("/prompt",
                new StringContent(new JsonObject { ["prompt"] = JsonNode.Parse(TestWorkflows.Pipeline(1)) }.ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.That((int)response.StatusCode, Is.EqualTo(503));

            var left = TimeSpan.FromSeconds(10) - (DateTime.UtcNow - down);
            if (left > TimeSpan.Zero) await Task.Delay(left);
            Assert.That(Workers.Select(w => w.Services.GetRequiredService<ReadyConditions>().Problems().ContainsKey("database")), Has.All.True);
        }
        finally { postgres.Resume(); }

        while (ready.Problems().ContainsKey("database")) await Task.Delay(100).WaitAsync(Hang);
        var id = (await workflows.SubmitAsync(TestWorkflows.Pipeline(2, steps: 1))).JobId;
        Assert.That((await _api.Engine.WaitAsync(id).WaitAsync(Hang)).Status, Is.EqualTo(JobStatus.Succeeded));
        foreach (var worker in Workers)
            while (worker.Services.GetRequiredService<ReadyConditions>().Problems().ContainsKey("database")) await Task.Delay(100).WaitAsync(Hang);
    }

    [Test]
    public async Task Health_names_each_nodes_role()
    {
        async Task<bool> HasRole(WorkflowServer node, string role)
        {
            var health = node.Services.GetRequiredService<HealthState>();
            for (var i = 0; i < 100; i++) // the entry is set as the node's readiness service starts
            {
                if (health.TryGetStatus("charactergen.role." + role, out var status)) return status == ServingStatus.Serving;
                await Task.Delay(50);
            }
            return false;
        }
        Assert.That(await HasRole(_api, "api"), Is.True);
        Assert.That(await HasRole(_worker1, "worker"), Is.True);
        Assert.That(await HasRole(_worker1, "api"), Is.False);
    }
}
