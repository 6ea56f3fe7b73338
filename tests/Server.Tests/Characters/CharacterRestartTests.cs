using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Server.Tests.Grpc.RealClients;
using CharacterGen.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// Fault injection: `charactergen serve` as a child process, killed with SIGKILL while a character generates its
/// training set and again while it trains, then restarted on the same data folder. After each kill the SQLite file
/// passes integrity_check and every visible image decodes; after each restart the character resumes: the missing
/// training images are rendered, and training continues from its last checkpoint (the restarted run's first step is
/// past 1) to READY.
/// </summary>
[Category("FaultInjection")]
[Category("Characters")]
public sealed class CharacterRestartTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(15); // a hang guard on a loaded machine, not a timing assertion
    private string _root = null!;
    private string DataDir => Path.Combine(_root, "data");
    private string ModelsDir => Path.Combine(_root, "models");

    [SetUp]
    public void CreateFolders()
    {
        _root = Directory.CreateTempSubdirectory("cg-characters-kill9-").FullName;
        Directory.CreateDirectory(DataDir);
        CharacterTestServer.WriteCheckpoint(Path.Combine(ModelsDir, "checkpoints", CharacterTestServer.Checkpoint));
    }

    [TearDown]
    public void DeleteFolders()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task Kill_9_during_training_set_and_training_then_restart_resumes_to_ready()
    {
        using var guard = new CancellationTokenSource(Hang);
        using var http = new HttpClient { Timeout = Hang };

        var server = await StartAsync(http, guard.Token);
        var created = await PostAsync(http, server, "/v1/characters", new JsonObject { ["description"] = "a knight", ["render"] = new JsonObject { ["seed"] = 1 } });
        var id = created["character"]!["characterId"]!.GetValue<string>();
        await PostAsync(http, server, $"/v1/characters/{id}:approve", new JsonObject { ["candidateId"] = created["candidate"]!["candidateId"]!.DeepClone() });
        await PostAsync(http, server, $"/v1/characters/{id}/trainingImages:generate", new JsonObject { ["count"] = 5 });

        await WaitUntilAsync(http, server, id, c => Count(c) >= 2, guard.Token);
        server.KillHard();
        server.Dispose();
        AssertNothingHalfWritten();

        server = await StartAsync(http, guard.Token);
        var afterSet = await WaitUntilAsync(http, server, id, c => State(c) != "CHARACTER_STATE_GENERATING_TRAINING", guard.Token);
        Assert.That((State(afterSet), Count(afterSet)), Is.EqualTo(("CHARACTER_STATE_BASE_APPROVED", 5)), afterSet.ToJsonString() + server.Output);
        var images = (await http.GetFromJsonAsync<JsonObject>(new Uri(server.HttpAddress, $"/v1/characters/{id}/trainingImages"), guard.Token))!;
        Assert.That(images["trainingImages"]!.AsArray().Select(i => i!["index"]?.GetValue<int>() ?? 0), Is.EqualTo(Enumerable.Range(0, 5)));

        await PostAsync(http, server, $"/v1/characters/{id}:train", new JsonObject { ["steps"] = 30, ["rank"] = 4 });
        await WaitUntilAsync(http, server, id, c => Step(c) >= 3, guard.Token); // checkpoints every 2 steps (the deployment below)
        server.KillHard();
        server.Dispose();
        AssertNothingHalfWritten();

        server = await StartAsync(http, guard.Token);
        var ready = await WaitUntilAsync(http, server, id, c => State(c) != "CHARACTER_STATE_TRAINING", guard.Token);
        Assert.That(State(ready), Is.EqualTo("CHARACTER_STATE_READY"), ready.ToJsonString() + server.Output);
        var resumedSteps = await TrainingStepsOfRestartedJobAsync(http, server, id, guard.Token);
        Assert.That(resumedSteps[0], Is.GreaterThan(1), "the restarted training began after its last checkpoint, not at step 1");
        Assert.That(resumedSteps[^1], Is.EqualTo(30));
        var scene = await PostAsync(http, server, $"/v1/characters/{id}/scenes", new JsonObject { ["prompt"] = "in a forest" });
        Assert.That(scene["image"]!["assetId"]!.GetValue<string>(), Has.Length.EqualTo(64));
        server.Dispose();
    }

    private async Task<ServeProcess> StartAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var server = ServeProcess.Start(DataDir, ModelsDir, ["--workflows", Path.Combine(Repository.Root, "workflows")], new Dictionary<string, string>
        {
            ["CHARACTERGEN_CHARACTERS__CHECKPOINT"] = CharacterTestServer.Checkpoint,
            ["CHARACTERGEN_CHARACTERS__STEPS"] = "1",
            ["CHARACTERGEN_CHARACTERS__CHECKPOINTEVERY"] = "2",
        });
        await server.WaitReadyAsync(http, cancellationToken);
        return server;
    }

    /// <summary>The training steps the restarted server's train job reported, from its first event.</summary>
    private static async Task<List<int>> TrainingStepsOfRestartedJobAsync(HttpClient http, ServeProcess server, string id, CancellationToken cancellationToken)
    {
        var jobs = (await http.GetFromJsonAsync<JsonObject>(new Uri(server.HttpAddress, "/v1/jobs?pageSize=1000"), cancellationToken))!["jobs"]!.AsArray();
        var train = jobs.Single(j => j!["clientRequestId"]?.GetValue<string>().StartsWith($"character/{id}/train/", StringComparison.Ordinal) == true)!;
        var text = await http.GetStringAsync(new Uri(server.HttpAddress, $"/v1/jobs/{train["jobId"]}:watch"), cancellationToken);
        var steps = new List<int>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.EndArray) continue;
            if (JsonNode.Parse(ref reader)!["nodeProgress"]?["training"]?["step"] is { } step) steps.Add(step.GetValue<int>());
        }
        Assert.That(steps, Is.Not.Empty, text);
        return steps;
    }

    private static async Task<JsonObject> WaitUntilAsync(HttpClient http, ServeProcess server, string id, Func<JsonObject, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            var character = (await http.GetFromJsonAsync<JsonObject>(new Uri(server.HttpAddress, $"/v1/characters/{id}"), cancellationToken))!;
            if (done(character)) return character;
            await Task.Delay(200, cancellationToken);
        }
    }

    private static string State(JsonObject c) => c["state"]!.GetValue<string>();
    private static int Count(JsonObject c) => c["trainingImageCount"]?.GetValue<int>() ?? 0;
    private static int Step(JsonObject c) => c["training"]?["progress"]?["step"]?.GetValue<int>() ?? 0;

    private static async Task<JsonObject> PostAsync(HttpClient http, ServeProcess server, string path, JsonObject body)
    {
        using var response = await http.PostAsync(new Uri(server.HttpAddress, path), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"POST {path}: {text}\n{server.Output}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The database is intact and every image a client could see (outputs, assets, inputs) decodes.</summary>
    private void AssertNothingHalfWritten()
    {
        CharacterGen.Server.Storage.SystemSqlite.EnsureInitialized(); // the system SQLite, as the server uses
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(DataDir, "jobs.db")};Pooling=False"))
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.That(check.ExecuteScalar(), Is.EqualTo("ok"));
        }
        foreach (var file in Directory.EnumerateFiles(DataDir, "*.png", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')))
            Assert.DoesNotThrow(() => ImageDecoder.Decode(File.ReadAllBytes(file)), file);
    }
}
