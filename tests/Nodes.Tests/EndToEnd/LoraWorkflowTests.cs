using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.EndToEnd;

/// <summary>txt2img through LoraLoader on the engine: the LoRA changes the image, and the shared weights come back exactly.</summary>
public sealed class LoraWorkflowTests
{
    private static readonly string[] Small = ["3.steps=3", "5.width=64", "5.height=64"];

    // The shipped workflow with a LoraLoader (node 10) between the checkpoint and the sampler and text encoders.
    private static ApiWorkflow WithLora(EngineHarness h, double strength)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "workflows", "txt2img_sd15.json")))!.AsObject();
        json["10"] = new JsonObject
        {
            ["class_type"] = "LoraLoader",
            ["inputs"] = new JsonObject
            {
                ["model"] = new JsonArray("4", 0), ["clip"] = new JsonArray("4", 1), ["lora_name"] = "style.safetensors",
                ["strength_model"] = strength, ["strength_clip"] = strength,
            },
        };
        json["3"]!["inputs"]!["model"] = new JsonArray("10", 0);
        json["6"]!["inputs"]!["clip"] = new JsonArray("10", 1);
        json["7"]!["inputs"]!["clip"] = new JsonArray("10", 1);
        return WorkflowOverride.ApplyAll(h.Engine.Parse(json.ToJsonString()),
            ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", .. Small], h.Env.Catalog);
    }

    private static async Task<byte[]> Image(EngineHarness h, ApiWorkflow workflow)
    {
        var (_, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single())).Pixels;
    }

    [Test]
    public async Task A_lora_changes_the_image_and_a_job_without_it_gets_the_original_back()
    {
        await using var h = EngineHarness.Create();
        using (Torch.NewScope()) TestLoras.Write(h.Env, "style.safetensors", seed: 3);

        byte[] plain = await Image(h, h.Workflow("txt2img_sd15.json", Small));
        byte[] styled = await Image(h, WithLora(h, 1.0));
        Assert.That(styled, Is.Not.EqualTo(plain), "the LoRA changes the image");

        await h.Engine.FreeAsync(); // drop cached outputs: the next job runs CLIP and the UNet again on the shared weights
        byte[] again = await Image(h, h.Workflow("txt2img_sd15.json", Small));
        Assert.That(again, Is.EqualTo(plain), "without the LoRA the original weights are back, bit for bit");

        byte[] zero = await Image(h, WithLora(h, 0.0));
        Assert.That(zero, Is.EqualTo(plain), "strength 0 is no LoRA");
        Assert.That(h.Env.Cache.LoadCount, Is.EqualTo(1), "the checkpoint was never read again");
    }

    [Test]
    public async Task Lora_values_and_weight_backups_are_released_with_the_cache()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = Tensor.LiveCount;
        await using (var h = EngineHarness.Create())
        {
            using (Torch.NewScope()) TestLoras.Write(h.Env, "style.safetensors", seed: 4);
            await Image(h, WithLora(h, 1.0));
            await Image(h, WithLora(h, 0.5));
            await h.Engine.FreeAsync(); // the model stays loaded with the LoRA still applied
            h.Env.Cache.Free();
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        }
    }
}
