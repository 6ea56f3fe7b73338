using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// The whole server stopped and started again on the same data folder (its SQLite job store): history, the pending
/// queue, the job that was running and client request ids all survive, seen through the ComfyUI HTTP API and the engine
/// (whose GetJob/ListJobs the gRPC service maps).
/// </summary>
public class HostRestartTests
{
    private string _dataDir = null!;

    [SetUp]
    public void CreateFolder() => _dataDir = Directory.CreateTempSubdirectory("cg-restart-").FullName;

    [TearDown]
    public void DeleteFolder()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    private sealed class Host(WebApplication app, ComfyTestNodes nodes) : IAsyncDisposable
    {
        public ComfyTestNodes Nodes { get; } = nodes;
        public WorkflowEngine Engine => app.Services.GetRequiredService<WorkflowEngine>();
        public HttpClient Http { get; } = new() { BaseAddress = app.Services.GetRequiredService<ServerEndpoints>().HttpAddress, Timeout = TimeSpan.FromSeconds(30) };

        public async Task<string> QueueAsync(JsonObject prompt)
        {
            using var response = await Http.PostAsJsonAsync("/prompt", new JsonObject { ["prompt"] = prompt });
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.That((int)response.StatusCode, Is.EqualTo(200), body.ToJsonString());
            return body["prompt_id"]!.GetValue<string>();
        }

        public async Task<JsonNode> GetAsync(string path) => JsonNode.Parse(await Http.GetStringAsync(path))!;

        /// <summary>Stops as SIGTERM would; a job still blocked is cancelled by the stop, which the store does not record.</summary>
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
            Nodes.Dispose();
        }
    }

    private async Task<Host> StartAsync(bool openGate)
    {
        var options = new ServerOptions
        {
            GrpcPort = 0, HttpPort = 0, DataDir = _dataDir, ModelsDir = Path.Combine(_dataDir, "models"), ShutdownTimeoutSeconds = 5,
        };
        var nodes = new ComfyTestNodes();
        if (openGate) nodes.Gate.Set();
        var app = CharacterGenHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<NodeCatalog>(nodes.Catalog);
        });
        await app.StartAsync();
        return new Host(app, nodes);
    }

    private static async Task<JobSnapshot> WaitAsync(WorkflowEngine engine, string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang guard
        return await engine.WaitAsync(id, timeout.Token);
    }

    [Test]
    public async Task History_pending_order_the_running_job_and_request_ids_survive_a_restart()
    {
        string done, failed, running, pendingA, pendingB, deduplicated;
        await using (var host = await StartAsync(openGate: false))
        {
            done = await host.QueueAsync(TestWorkflows.SaveChain(value: 5, prefix: "Done"));
            Assert.That((await WaitAsync(host.Engine, done)).Status, Is.EqualTo(JobStatus.Succeeded));
            failed = await host.QueueAsync(TestWorkflows.Failing());
            Assert.That((await WaitAsync(host.Engine, failed)).Status, Is.EqualTo(JobStatus.Failed));
            deduplicated = host.Engine.Submit(TestWorkflows.SaveChain(value: 9, prefix: "Keyed").ToJsonString(),
                new SubmitOptions { ClientRequestId = "client-42" }).JobId!;
            await WaitAsync(host.Engine, deduplicated);

            running = await host.QueueAsync(TestWorkflows.Blocking(tag: 1));
            Assert.That(await host.Nodes.Entered.WaitAsync(TimeSpan.FromSeconds(30)), Is.True);
            pendingA = await host.QueueAsync(TestWorkflows.SaveChain(value: 1, prefix: "A"));
            pendingB = await host.QueueAsync(TestWorkflows.SaveChain(value: 2, prefix: "B"));
        }

        await using var restarted = await StartAsync(openGate: true);
        foreach (var id in new[] { running, pendingA, pendingB })
            Assert.That((await WaitAsync(restarted.Engine, id)).Status, Is.EqualTo(JobStatus.Succeeded), id);
        Assert.That(restarted.Engine.History.Select(j => j.Id), Is.EqualTo(new[] { done, failed, deduplicated, running, pendingA, pendingB }));

        var history = await restarted.GetAsync("/history");
        var image = history[done]!["outputs"]!["3"]!["images"]![0]!;
        Assert.That(image["filename"]!.GetValue<string>(), Is.EqualTo("Done_00001_.png"));
        Assert.That(history[failed]!["status"]!["status_str"]!.GetValue<string>(), Is.EqualTo("error"));
        Assert.That(File.Exists(Path.Combine(_dataDir, "output", "Done_00001_.png")));

        var job = await restarted.GetAsync($"/api/jobs/{done}");
        Assert.That(job["status"]!.GetValue<string>(), Is.EqualTo("completed"));
        var jobs = await restarted.GetAsync("/api/jobs");
        Assert.That(jobs["pagination"]!["total"]!.GetValue<int>(), Is.EqualTo(6));

        var again = restarted.Engine.Submit(TestWorkflows.SaveChain(value: 9, prefix: "Keyed").ToJsonString(),
            new SubmitOptions { ClientRequestId = "client-42" });
        Assert.That((again.Existing, again.JobId), Is.EqualTo((true, deduplicated)));
        Assert.That(restarted.Engine.Queue.Pending, Is.Empty);
    }

    [Test]
    public async Task A_third_start_still_sees_what_the_second_finished()
    {
        string id;
        await using (var host = await StartAsync(openGate: false))
        {
            id = await host.QueueAsync(TestWorkflows.Blocking(tag: 2));
            Assert.That(await host.Nodes.Entered.WaitAsync(TimeSpan.FromSeconds(30)), Is.True);
        }
        await using (var host = await StartAsync(openGate: true))
            Assert.That((await WaitAsync(host.Engine, id)).Status, Is.EqualTo(JobStatus.Succeeded));
        await using var third = await StartAsync(openGate: true);
        Assert.That(third.Engine.GetJob(id)!.Status, Is.EqualTo(JobStatus.Succeeded));
        Assert.That(third.Engine.GetJob(id)!.Outputs["3"], Is.Not.Empty);
        Assert.That(third.Nodes.Executions, Is.EqualTo(0), "nothing ran a third time");
    }
}
