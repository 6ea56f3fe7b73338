using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.EndToEnd;

/// <summary>
/// txt2img with IP-Adapters on the engine, tiny models in the real layouts: IPAdapterUnifiedLoader finds the files by
/// cubiq's patterns, IPAdapterAdvanced changes the image, weight 0 leaves it bit-identical, two adapters stack.
/// </summary>
public sealed class IpAdapterWorkflowTests
{
    private const string Vision = "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors";
    private static readonly string[] Small = ["3.steps=3", "5.width=64", "5.height=64"];

    private static void WriteModels(NodeTestEnvironment env)
    {
        using var scope = Torch.NewScope();
        string vision = Path.Combine(env.Models.Root, "clip_vision"), ipadapter = Path.Combine(env.Models.Root, "ipadapter");
        Directory.CreateDirectory(vision);
        Directory.CreateDirectory(ipadapter);
        TestIpAdapters.WriteClipVision(Path.Combine(vision, Vision), seed: 5);
        TestIpAdapters.WriteIpAdapter(Path.Combine(ipadapter, "ip-adapter_sd15.safetensors"), TinySizes.Default.Unet, IpAdapterKind.Base, seed: 6);
        TestIpAdapters.WriteIpAdapter(Path.Combine(ipadapter, "ip-adapter-plus_sd15.safetensors"), TinySizes.Default.Unet, IpAdapterKind.Plus, seed: 7);
    }

    // The shipped txt2img workflow with a reference image (a decoded random latent) and adapters chained on the model:
    // each (preset, weight, weight_type) is one IPAdapterUnifiedLoader + IPAdapterAdvanced pair.
    private static ApiWorkflow With(EngineHarness h, params (string Preset, double Weight, string Type)[] adapters)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "workflows", "txt2img_sd15.json")))!.AsObject();
        json["20"] = Node("EmptyLatentImage", new() { ["width"] = 48, ["height"] = 40, ["batch_size"] = 1 });
        json["21"] = Node("KSampler", new()
        {
            ["seed"] = 11, ["steps"] = 1, ["cfg"] = 1.0, ["sampler_name"] = "euler", ["scheduler"] = "normal", ["denoise"] = 1.0,
            ["model"] = new JsonArray("4", 0), ["positive"] = new JsonArray("6", 0), ["negative"] = new JsonArray("7", 0),
            ["latent_image"] = new JsonArray("20", 0),
        });
        json["22"] = Node("VAEDecode", new() { ["samples"] = new JsonArray("21", 0), ["vae"] = new JsonArray("4", 2) });
        var model = new JsonArray("4", 0);
        int id = 30;
        foreach (var (preset, weight, type) in adapters)
        {
            json[$"{id}"] = Node("IPAdapterUnifiedLoader", new() { ["model"] = model, ["preset"] = preset });
            json[$"{id + 1}"] = Node("IPAdapterAdvanced", new()
            {
                ["model"] = new JsonArray($"{id}", 0), ["ipadapter"] = new JsonArray($"{id}", 1), ["image"] = new JsonArray("22", 0),
                ["weight"] = weight, ["weight_type"] = type, ["combine_embeds"] = "concat", ["start_at"] = 0.0, ["end_at"] = 1.0,
                ["embeds_scaling"] = "V only",
            });
            model = new JsonArray($"{id + 1}", 0);
            id += 2;
        }
        json["3"]!["inputs"]!["model"] = model;
        return WorkflowOverride.ApplyAll(h.Engine.Parse(json.ToJsonString()),
            ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", .. Small], h.Env.Catalog);
    }

    private static JsonObject Node(string type, JsonObject inputs) => new() { ["class_type"] = type, ["inputs"] = inputs };

    private static async Task<byte[]> Image(EngineHarness h, ApiWorkflow workflow)
    {
        var (_, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single())).Pixels;
    }

    [Test]
    public async Task An_adapter_changes_the_image_weight_zero_does_not_and_two_stack()
    {
        await using var h = EngineHarness.Create();
        WriteModels(h.Env);
        byte[] plain = await Image(h, With(h));
        byte[] face = await Image(h, With(h, ("STANDARD (medium strength)", 0.7, "linear")));
        Assert.That(face, Is.Not.EqualTo(plain), "the adapter changes the image");
        byte[] zero = await Image(h, With(h, ("STANDARD (medium strength)", 0.0, "linear")));
        Assert.That(zero, Is.EqualTo(plain), "weight 0 is no adapter, bit for bit");
        byte[] both = await Image(h, With(h, ("STANDARD (medium strength)", 0.7, "linear"), ("PLUS (high strength)", 0.4, "style transfer")));
        Assert.That(both, Is.Not.EqualTo(face), "the second adapter adds its own term");
        byte[] again = await Image(h, With(h));
        Assert.That(again, Is.EqualTo(plain), "a model without adapters is unchanged afterwards (nothing leaks between values)");
    }

    [Test]
    public async Task A_missing_preset_file_names_the_pattern_and_the_folder()
    {
        await using var h = EngineHarness.Create();
        WriteModels(h.Env);
        var (_, job) = await h.RunAsync(With(h, ("FULL FACE - SD1.5 only (portraits stronger)", 1.0, "linear")));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error!.Message, Does.Contain("full.face.sd15").And.Contain("ipadapter"));
    }

    [Test]
    public async Task Adapter_values_are_released_with_the_cache()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = Tensor.LiveCount;
        await using (var h = EngineHarness.Create())
        {
            WriteModels(h.Env);
            await Image(h, With(h, ("STANDARD (medium strength)", 0.7, "linear"), ("PLUS (high strength)", 0.4, "ease in")));
            await h.Engine.FreeAsync();
            h.Env.Cache.Free();
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        }
    }
}
