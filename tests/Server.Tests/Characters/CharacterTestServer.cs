using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Characters;
using CharacterGen.Server.Tests.Grpc.RealClients;
using CharacterGen.Server.Tests.Grpc.Support;
using Grpc.Net.Client;
using Microsoft.Data.Sqlite;

namespace CharacterGen.Server.Tests.Characters;

/// <summary>
/// The real server in-process with the shipped workflows/characters/ and a models folder holding one checkpoint: the
/// tiny random-weight SD1.5 one by default, or the file named by CG_CHARACTER_CHECKPOINT (e.g. the demo model from
/// `make-demo-model`), so the same flow runs on either. Renders at 64×64 with few steps; training takes few steps.
/// </summary>
public sealed class CharacterTestServer : IAsyncDisposable
{
    public const string Checkpoint = "character-test.safetensors";

    private readonly string _models;

    private CharacterTestServer(TestServer server, string models)
    {
        Server = server;
        _models = models;
        Channel = GrpcChannel.ForAddress(server.GrpcAddress);
        Client = new Protos.V1.Characters.CharactersClient(Channel);
    }

    public TestServer Server { get; }
    public GrpcChannel Channel { get; }
    public Protos.V1.Characters.CharactersClient Client { get; }
    public string DataDir => Server.Options.DataDir;

    /// <param name="server">Further server options (e.g. the web page's root for the browser tests).</param>
    public static async Task<CharacterTestServer> StartAsync(Func<CharacterOptions, CharacterOptions>? configure = null, string? database = null,
        Func<Hosting.ServerOptions, Hosting.ServerOptions>? server = null)
    {
        var models = Directory.CreateTempSubdirectory("cg-characters-models-").FullName;
        WriteCheckpoint(Path.Combine(models, "checkpoints", Checkpoint));
        var characters = new CharacterOptions
        {
            Checkpoint = Checkpoint,
            Steps = 1,
            TrainingSteps = 4,
            CheckpointEvery = 2,
            LoraRank = 4,
            ActorWidth = 64,
            ActorHeight = 96,
            ActorSteps = 1,
            UserModels = new(StringComparer.Ordinal) { ["alice"] = "alice-model" },
        };
        characters = configure?.Invoke(characters) ?? characters;
        var started = await TestServer.StartAsync(options => (server ?? (o => o))(options with
        {
            ModelsDir = models,
            WorkflowsDir = Path.Combine(Repository.Root, "workflows"),
            Database = database,
            Characters = characters,
            ModelAliases = new(StringComparer.Ordinal) { ["alice-model"] = new ModelAliasSettings { Checkpoint = Checkpoint } },
        }));
        return new CharacterTestServer(started, models);
    }

    /// <summary>The tiny SD1.5 checkpoint, or a copy of (a link to) CG_CHARACTER_CHECKPOINT with its tokenizer.</summary>
    public static void WriteCheckpoint(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (Environment.GetEnvironmentVariable("CG_CHARACTER_CHECKPOINT") is { Length: > 0 } given)
        {
            File.CreateSymbolicLink(path, Path.GetFullPath(given));
            var tokenizer = Path.ChangeExtension(Path.GetFullPath(given), ".tokenizer"); // NAME.tokenizer/ beside NAME.safetensors
            if (Directory.Exists(tokenizer)) Directory.CreateSymbolicLink(Path.ChangeExtension(path, ".tokenizer"), tokenizer);
            return;
        }
        TinyModelWriter.WriteSd15(path, seed: 5);
    }

    /// <summary>The server's log, for failure messages.</summary>
    public string Log => string.Join("\n", Server.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Information)
        .Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception}"));

    public async ValueTask DisposeAsync()
    {
        TestContext.Out.WriteLine(Log); // shown with a failure
        Channel.Dispose();
        await Server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_models, recursive: true);
    }
}
