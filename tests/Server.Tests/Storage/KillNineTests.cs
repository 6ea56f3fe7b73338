using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// Fault injection: `charactergen serve` as a child process on a tiny SD1.5 checkpoint, jobs submitted over
/// POST /prompt, kill -9 at pseudo-random moments (fixed seed: while queued, mid-step, mid-SaveImage), restarted on the
/// same data folder. Each round also has an upload running (POST /upload/image or gRPC Assets.Upload, alternately;
/// half of them hang mid-body so the kill surely cuts them). After every kill: the SQLite store passes
/// integrity_check and no visible file in output/, input/ or the asset store is partial; after every restart: every
/// acknowledged job and upload is still known and the upload staging folders are empty; at the end the queue drains
/// and every acknowledged job has succeeded with its files in place.
/// </summary>
[Category("FaultInjection")]
public class KillNineTests
{
    private const int Kills = 20;
    private const int Seed = 20261203;
    private string _root = null!;
    private string DataDir => Path.Combine(_root, "data");
    private string ModelsDir => Path.Combine(_root, "models");

    [SetUp]
    public void CreateFolders()
    {
        _root = Directory.CreateTempSubdirectory("cg-kill9-").FullName;
        Directory.CreateDirectory(DataDir);
        TinyModelWriter.WriteSd15(Path.Combine(ModelsDir, "checkpoints", "tiny.safetensors"), seed: 5);
    }

    [TearDown]
    public void DeleteFolders()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task Nothing_acknowledged_is_lost_across_kill_9_and_restart()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // a hang guard, not a timing assertion
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var random = new Random(Seed);
        var acknowledged = new List<string>();
        var template = Txt2Img();
        var seed = 0;
        var uploads = new CutUploads(DataDir);

        for (var kill = 0; kill < Kills; kill++)
        {
            using var server = ServeProcess.Start(DataDir, ModelsDir);
            await server.WaitReadyAsync(http, guard.Token);
            foreach (var id in acknowledged)
                Assert.That(await StatusAsync(http, server, id), Is.Not.Null, $"acknowledged job {id} was lost (after kill {kill})\n{server.Output}");
            uploads.AfterRestart();

            // Submit a few jobs one after another while a timer kills the server at a random moment.
            var jobs = random.Next(1, 4);
            var killAfter = TimeSpan.FromMilliseconds(random.Next(0, 2500));
            var submitting = Task.Run(async () =>
            {
                for (var j = 0; j < jobs; j++)
                {
                    var prompt = (JsonObject)template.DeepClone();
                    prompt["3"]!["inputs"]!["seed"] = Interlocked.Increment(ref seed);
                    try
                    {
                        using var response = await http.PostAsync(new Uri(server.HttpAddress, "/prompt"),
                            new StringContent(new JsonObject { ["prompt"] = prompt }.ToJsonString(), Encoding.UTF8, "application/json"));
                        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
                        Assert.That((int)response.StatusCode, Is.EqualTo(200), body?.ToJsonString());
                        lock (acknowledged) acknowledged.Add(body!["prompt_id"]!.GetValue<string>());
                    }
                    catch (HttpRequestException) { return; } // killed mid-request: not acknowledged, may or may not exist
                }
            });
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(guard.Token);
            var uploading = uploads.Start(kill, server, random, stall.Token);
            await Task.Delay(killAfter, guard.Token);
            server.KillHard();
            await stall.CancelAsync();
            await submitting;
            await uploading;

            AssertDatabaseIntact();
            AssertNoVisiblePartialFile();
            uploads.AfterKill();
        }

        using (var last = ServeProcess.Start(DataDir, ModelsDir))
        {
            await last.WaitReadyAsync(http, guard.Token);
            uploads.AfterRestart();
            foreach (var id in acknowledged)
            {
                string? status;
                while ((status = await StatusAsync(http, last, id)) is "pending" or "in_progress") await Task.Delay(100, guard.Token);
                Assert.That(status, Is.EqualTo("completed"), $"job {id}\n{last.Output}");
            }
            var queue = JsonNode.Parse(await http.GetStringAsync(new Uri(last.HttpAddress, "/queue"), guard.Token))!;
            Assert.That(queue["queue_running"]!.AsArray().Count + queue["queue_pending"]!.AsArray().Count, Is.Zero, "the queue drained");

            var history = JsonNode.Parse(await http.GetStringAsync(new Uri(last.HttpAddress, "/history"), guard.Token))!.AsObject();
            foreach (var id in acknowledged)
            {
                var image = history[id]!["outputs"]!["9"]!["images"]![0]!;
                var file = Path.Combine(DataDir, "output", image["filename"]!.GetValue<string>());
                Assert.That(IsCompletePng(file), Is.True, $"{id}: {file}");
            }
        }
        AssertDatabaseIntact();
        Assert.That(acknowledged, Has.Count.GreaterThanOrEqualTo(Kills / 2), "enough jobs were acknowledged to mean something");
        Assert.That(uploads.HttpLeftovers, Is.GreaterThan(0), "some kill cut a POST /upload/image mid-body");
        Assert.That(uploads.GrpcLeftovers, Is.GreaterThan(0), "some kill cut an Assets.Upload stream mid-body");
        TestContext.Out.WriteLine($"{Kills} kills, {acknowledged.Count} acknowledged jobs, all completed; uploads: {uploads.Acknowledged} " +
            $"acknowledged, cut mid-body {uploads.HttpLeftovers} over HTTP and {uploads.GrpcLeftovers} over gRPC, staging cleaned");
    }

    private static async Task<string?> StatusAsync(HttpClient http, ServeProcess server, string id)
    {
        using var response = await http.GetAsync(new Uri(server.HttpAddress, $"/api/jobs/{id}"));
        if (!response.IsSuccessStatusCode) return null;
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>();
    }

    private void AssertDatabaseIntact()
    {
        CharacterGen.Server.Storage.SystemSqlite.EnsureInitialized();
        using var connection = new SqliteConnection($"Data Source={Path.Combine(DataDir, "jobs.db")};Pooling=False");
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.That(check.ExecuteScalar(), Is.EqualTo("ok"));
    }

    /// <summary>Files a client can see (not the hidden temporary files a write renames into place) are whole PNGs.</summary>
    private void AssertNoVisiblePartialFile()
    {
        var output = Path.Combine(DataDir, "output");
        if (!Directory.Exists(output)) return;
        foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
            if (!Path.GetFileName(file).StartsWith('.'))
                Assert.That(IsCompletePng(file), Is.True, $"partial file visible: {file}");
    }

    /// <summary>PNG signature at the start, IEND chunk at the end.</summary>
    private static bool IsCompletePng(string path)
    {
        if (!File.Exists(path)) return false;
        var bytes = File.ReadAllBytes(path);
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        return bytes.Length > 20 && bytes.AsSpan(0, 8).SequenceEqual(signature)
            && Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4) == "IEND";
    }

    private static JsonObject Txt2Img()
    {
        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "workflows", "txt2img_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = "tiny.safetensors";
        prompt["3"]!["inputs"]!["steps"] = 3;
        prompt["5"]!["inputs"]!["width"] = 64;
        prompt["5"]!["inputs"]!["height"] = 64;
        prompt["9"]!["inputs"]!["filename_prefix"] = "kill9";
        return prompt;
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory");
    }
}
