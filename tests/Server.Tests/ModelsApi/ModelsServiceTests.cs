using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using Microsoft.Extensions.DependencyInjection;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.WorkflowsApi.Support;

namespace CharacterGen.Server.Tests.ModelsApi;

/// <summary>charactergen.v1.Models over a temp models folder, and Free over the engine's output cache.</summary>
public sealed class ModelsServiceTests
{
    private const string List = "/charactergen.v1.Models/List";
    private const string Free = "/charactergen.v1.Models/Free";

    private WorkflowServer _server = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await WorkflowServer.StartAsync(new EngineOptions(), o => o with // with an output cache, for Free
        {
            ModelAliases = new()
            {
                ["alice-v2"] = new() { Checkpoint = "sd15.safetensors", Loras = [new() { Name = "face.safetensors", StrengthModel = 0.8, StrengthClip = 0.5 }] },
            },
        });
        var models = _server.Options.ModelsDir;
        Write(models, "checkpoints/sd15.safetensors", 10);
        Write(models, "checkpoints/xl/base.safetensors", 20);
        Write(models, "checkpoints/old.ckpt", 30); // pickle: never listed
        Write(models, "loras/face.safetensors", 40);
        Write(models, "unet/flux.sft", 50);        // legacy folder of diffusion_models
    }

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private static void Write(string root, string relative, int bytes)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
    }

    private async Task<ListModelsResponse> ListAsync(string kind)
    {
        var result = await _server.Client.UnaryAsync(List, new ListModelsRequest { Kind = kind });
        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        return result.Single(ListModelsResponse.Parser);
    }

    [Test]
    public async Task List_gives_the_aliases_with_checkpoints_and_not_with_other_kinds()
    {
        foreach (var kind in new[] { "", "checkpoints" })
        {
            var alias = (await ListAsync(kind)).Aliases.Single();
            Assert.That((alias.Name, alias.Checkpoint), Is.EqualTo(("alice-v2", "sd15.safetensors")), kind);
            Assert.That(alias.Loras.Select(l => (l.Name, l.StrengthModel, l.StrengthClip)), Is.EqualTo(new[] { ("face.safetensors", 0.8, 0.5) }));
        }
        Assert.That((await ListAsync("loras")).Aliases, Is.Empty);
    }

    [Test]
    public async Task List_of_one_kind_gives_its_weight_files_with_sizes()
    {
        var response = await ListAsync("checkpoints");

        var folder = response.Folders.Single();
        Assert.That(folder.Kind, Is.EqualTo("checkpoints"));
        Assert.That(folder.Files.Select(f => (f.Name, f.SizeBytes)), Is.EqualTo(new[] { ("sd15.safetensors", 10L), ("xl/base.safetensors", 20L) }));
        Assert.That(folder.Files.Select(f => f.ModifiedAt.ToDateTimeOffset()), Is.All.GreaterThan(DateTimeOffset.UtcNow.AddHours(-1)));
    }

    [Test]
    public async Task List_without_a_kind_gives_every_kind_including_empty_ones()
    {
        var response = await ListAsync("");

        var byKind = response.Folders.ToDictionary(f => f.Kind, f => f.Files.Select(m => m.Name).ToList());
        Assert.That(byKind.Keys, Is.SupersetOf(new[] { "checkpoints", "loras", "vae", "controlnet", "diffusion_models", "text_encoders" }));
        Assert.That(byKind["loras"], Is.EqualTo(new[] { "face.safetensors" }));
        Assert.That(byKind["diffusion_models"], Is.EqualTo(new[] { "flux.sft" }));
        Assert.That(byKind["vae"], Is.Empty);
    }

    [Test]
    public async Task An_unknown_kind_is_an_invalid_argument_listing_the_known_ones()
    {
        var result = await _server.Client.UnaryAsync(List, new ListModelsRequest { Kind = "../checkpoints" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        var violation = result.RichStatus!.Details.Single().Unpack<Google.Rpc.BadRequest>().FieldViolations.Single();
        Assert.That((violation.Field, violation.Description), Is.EqualTo(("kind", violation.Description)));
        Assert.That(violation.Description, Does.Contain("checkpoints"));
    }

    [Test]
    public async Task Free_releases_the_cached_node_outputs()
    {
        var workflows = new WorkflowsClient(_server.Client);
        var submitted = await workflows.SubmitAsync(TestWorkflows.Pipeline(77));
        await _server.FinishedAsync(submitted.JobId);
        var cached = _server.Engine.CachedEntryCount;

        var result = await _server.Client.UnaryAsync(Free, new FreeModelsRequest { UnloadModels = true, FreeMemory = true });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(cached, Is.GreaterThan(0));
        Assert.That(result.Single(FreeModelsResponse.Parser).ReleasedCacheEntries, Is.EqualTo(cached));
        Assert.That(_server.Engine.CachedEntryCount, Is.Zero);
    }

    [Test]
    public async Task Free_unloads_loaded_checkpoints()
    {
        var cache = _server.Services.GetRequiredService<ModelCache>();
        string path = Path.Combine(Path.GetTempPath(), $"cg-free-{Guid.NewGuid():N}.safetensors");
        try
        {
            TestCheckpoints.WriteSd15(path, seed: 3);
            using (cache.Checkpoint(path)) { }
            Assert.That(cache.Loaded, Has.Count.EqualTo(1), "the checkpoint stays resident after its lease ends");

            var result = await _server.Client.UnaryAsync(Free, new FreeModelsRequest { UnloadModels = true });

            Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
            Assert.That(cache.Loaded, Is.Empty);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
