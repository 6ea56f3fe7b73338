using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Server.Tests.Storage;
using CharacterGen.Tests.Shared;
using Npgsql;

namespace CharacterGen.Server.Tests.Cluster;

/// <summary>
/// `charactergen serve` as three processes on one PostgreSQL and one data folder (an API node and two workers, a tiny
/// SD1.5 checkpoint, a 3 s lease): kill -9 the worker running a job mid-sampling; the job runs again on the other
/// worker once the lease expires, completes once, and its one output file is the one history names.
/// </summary>
[Category("FaultInjection"), NonParallelizable]
public sealed class WorkerKillTests
{
    private string _root = null!;

    [SetUp]
    public void CreateFolders()
    {
        _root = Directory.CreateTempSubdirectory("cg-cluster-kill-").FullName;
        TinyModelWriter.WriteSd15(Path.Combine(_root, "models", "checkpoints", "tiny.safetensors"), seed: 5);
    }

    [TearDown]
    public void DeleteFolders() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task A_job_whose_worker_is_killed_completes_once_on_the_other_worker()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(4)); // a hang guard, not a timing assertion
        var database = PostgresServer.Require().CreateDatabase();
        string Data() => Path.Combine(_root, "data");
        ServeProcess Start(string role) => ServeProcess.Start(Data(), Path.Combine(_root, "models"),
            ["--database", database, "--role", role, "--lease-seconds", "3"]);
        using var api = Start("api");
        using var worker1 = Start("worker");
        using var worker2 = Start("worker");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var node in new[] { api, worker1, worker2 }) await node.WaitReadyAsync(http, guard.Token);

        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "workflows", "txt2img_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = "tiny.safetensors";
        prompt["3"]!["inputs"]!["steps"] = 40;
        prompt["5"]!["inputs"]!["width"] = 64;
        prompt["5"]!["inputs"]!["height"] = 64;
        prompt["9"]!["inputs"]!["filename_prefix"] = "killed";
        using var submitted = await http.PostAsync(new Uri(api.HttpAddress, "/prompt"),
            new StringContent(new JsonObject { ["prompt"] = prompt }.ToJsonString(), Encoding.UTF8, "application/json"), guard.Token);
        var id = JsonNode.Parse(await submitted.Content.ReadAsStringAsync(guard.Token))!["prompt_id"]!.GetValue<string>();

        // Wait until a worker has sampled a while (its events are in the store), then kill it.
        var first = await ClaimedByAsync(database, id, minEvents: 6, guard.Token);
        var (victim, survivor) = first.Contains($"/{worker1.Pid}/") ? (worker1, worker2) : (worker2, worker1);
        Assert.That(first, Does.Contain($"/{victim.Pid}/"));
        victim.KillHard();
        Assert.That(Directory.GetFiles(Path.Combine(Data(), "output"), "killed_*"), Is.Empty, "killed mid-sampling, before SaveImage");

        JsonNode? entry = null;
        while (entry is null)
        {
            await Task.Delay(200, guard.Token);
            entry = JsonNode.Parse(await http.GetStringAsync(new Uri(api.HttpAddress, $"/history/{id}"), guard.Token))![id];
        }
        Assert.That(entry["status"]!["status_str"]!.GetValue<string>(), Is.EqualTo("success"), entry.ToJsonString());
        var images = entry["outputs"]!["9"]!["images"]!.AsArray();
        Assert.That(images, Has.Count.EqualTo(1));
        var files = Directory.GetFiles(Path.Combine(Data(), "output"), "killed_*").Select(Path.GetFileName).ToArray();
        Assert.That(files, Is.EqualTo(new[] { images[0]!["filename"]!.GetValue<string>() }), "one output, the one history names");

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(guard.Token);
        await using var row = await new NpgsqlCommand($"SELECT claimed_by, attempts FROM jobs WHERE id = '{id}'", connection).ExecuteReaderAsync(guard.Token);
        Assert.That(await row.ReadAsync(guard.Token), Is.True);
        Assert.That(row.GetString(0), Does.Contain($"/{survivor.Pid}/"));
        Assert.That(row.GetInt64(1), Is.EqualTo(2));
        Assert.That(survivor.HasExited, Is.False, survivor.Output);
    }

    /// <summary>The worker holding the job once it has stored at least <paramref name="minEvents"/> events.</summary>
    private static async Task<string> ClaimedByAsync(string database, string jobId, int minEvents, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(cancellationToken);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT j.claimed_by, (SELECT COUNT(*) FROM job_events e WHERE e.job_id = j.id) FROM jobs j WHERE j.id = @id AND j.state = 'running'", connection);
            command.Parameters.AddWithValue("id", jobId);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                if (await reader.ReadAsync(cancellationToken) && reader.GetInt64(1) >= minEvents) return reader.GetString(0);
            await Task.Delay(50, cancellationToken);
        }
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory");
    }
}
