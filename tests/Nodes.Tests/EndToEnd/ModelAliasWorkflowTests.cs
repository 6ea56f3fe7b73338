using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.EndToEnd;

/// <summary>A model alias (checkpoint + LoRAs) in CheckpointLoaderSimple: listed, and the same image as the explicit LoraLoaders.</summary>
public sealed class ModelAliasWorkflowTests
{
    private static readonly string[] Small = ["3.steps=3", "5.width=64", "5.height=64"];

    private static readonly ModelAliases Aliases = ModelAliases.From(new Dictionary<string, ModelAliasSettings>
    {
        ["alice-v2"] = new()
        {
            Checkpoint = NodeTestEnvironment.Checkpoint,
            Loras = [new() { Name = "alice.safetensors", StrengthModel = 0.8, StrengthClip = 0.6 }, new() { Name = "style.safetensors", StrengthModel = -0.5, StrengthClip = 1.0 }],
        },
        ["missing-lora"] = new() { Checkpoint = NodeTestEnvironment.Checkpoint, Loras = [new() { Name = "nope.safetensors" }] },
    });

    private static async Task<byte[]> Image(EngineHarness h, ApiWorkflow workflow)
    {
        var (_, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single())).Pixels;
    }

    // The shipped txt2img with two LoraLoaders (10, 11) between the checkpoint and the sampler and text encoders.
    private static ApiWorkflow WithLoraLoaders(EngineHarness h)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "workflows", "txt2img_sd15.json")))!.AsObject();
        json["10"] = Lora("4", "alice.safetensors", 0.8, 0.6);
        json["11"] = Lora("10", "style.safetensors", -0.5, 1.0);
        json["3"]!["inputs"]!["model"] = new JsonArray("11", 0);
        json["6"]!["inputs"]!["clip"] = new JsonArray("11", 1);
        json["7"]!["inputs"]!["clip"] = new JsonArray("11", 1);
        return WorkflowOverride.ApplyAll(h.Engine.Parse(json.ToJsonString()),
            ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", .. Small], h.Env.Catalog);
    }

    private static JsonObject Lora(string from, string name, double model, double clip) => new()
    {
        ["class_type"] = "LoraLoader",
        ["inputs"] = new JsonObject
        {
            ["model"] = new JsonArray(from, 0), ["clip"] = new JsonArray(from, 1), ["lora_name"] = name,
            ["strength_model"] = model, ["strength_clip"] = clip,
        },
    };

    [Test]
    public void Aliases_are_listed_after_the_checkpoint_files()
    {
        using var env = NodeTestEnvironment.Create(aliases: Aliases);
        var info = JsonNode.Parse(env.Catalog.ObjectInfoJson())!.AsObject();
        foreach (string node in new[] { "CheckpointLoaderSimple", "CheckpointLoader" })
        {
            var options = info[node]!["input"]!["required"]!["ckpt_name"]![0]!.AsArray().Select(o => o!.GetValue<string>());
            Assert.That(options, Is.EqualTo(new[] { NodeTestEnvironment.Checkpoint, "alice-v2", "missing-lora" }), node);
        }
    }

    [Test]
    public async Task An_alias_gives_the_same_image_as_the_checkpoint_loader_and_lora_loaders()
    {
        await using var h = EngineHarness.Create(aliases: Aliases);
        using (Torch.NewScope())
        {
            TestLoras.Write(h.Env, "alice.safetensors", seed: 5);
            TestLoras.Write(h.Env, "style.safetensors", seed: 6);
        }

        byte[] plain = await Image(h, h.Workflow("txt2img_sd15.json", Small));
        byte[] explicitLoras = await Image(h, WithLoraLoaders(h));
        await h.Engine.FreeAsync(); // the alias job must recompute everything, not reuse the explicit job's outputs
        byte[] alias = await Image(h, h.Workflow("txt2img_sd15.json", ["4.ckpt_name=\"alice-v2\"", .. Small]));

        Assert.That(explicitLoras, Is.Not.EqualTo(plain), "the LoRAs change the image");
        Assert.That(alias, Is.EqualTo(explicitLoras), "the alias is the checkpoint plus its LoRAs, bit for bit");
        Assert.That(h.Env.Cache.LoadCount, Is.EqualTo(1), "the alias shares the loaded checkpoint");
    }

    [Test]
    public async Task A_missing_lora_of_an_alias_fails_the_job_naming_the_alias()
    {
        await using var h = EngineHarness.Create(aliases: Aliases);
        var (_, job) = await h.RunAsync(h.Workflow("txt2img_sd15.json", ["4.ckpt_name=\"missing-lora\"", .. Small]));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error?.Message, Does.Contain("model alias 'missing-lora'").And.Contain("nope.safetensors"));
    }
}
