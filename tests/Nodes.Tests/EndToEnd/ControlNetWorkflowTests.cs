using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.EndToEnd;

/// <summary>txt2img with ControlNets on the engine: the effect, strength 0, windows, chains, the old node, refusals, leaks.</summary>
public sealed class ControlNetWorkflowTests
{
    private static readonly string[] Small = ["3.steps=3", "5.width=64", "5.height=64"];

    private static void WriteNet(EngineHarness h, string name, ulong seed, ControlNetKeyLayout layout = ControlNetKeyLayout.LdmPrefixed,
        Diffusion.Models.Unet.UnetConfig? config = null)
    {
        using (Torch.NewScope())
            TestControlNets.Write(Path.Combine(h.Env.Models.Root, "controlnet", name), config ?? TinySizes.Default.Unet, layout, seed);
    }

    /// <summary>
    /// The shipped txt2img with the hint from VAEDecode of the empty latent (node 11) and the given apply nodes between
    /// the text encoders and the sampler; each (classType, inputs) gets ids 20, 21, … and the last feeds the sampler.
    /// </summary>
    private static ApiWorkflow With(EngineHarness h, params (string Net, double Strength, double Start, double End, bool Old)[] applies)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "workflows", "txt2img_sd15.json")))!.AsObject();
        json["11"] = new JsonObject { ["class_type"] = "VAEDecode", ["inputs"] = new JsonObject { ["samples"] = new JsonArray("5", 0), ["vae"] = new JsonArray("4", 2) } };
        JsonArray positive = new("6", 0), negative = new("7", 0);
        int id = 20;
        foreach (var (net, strength, start, end, old) in applies)
        {
            string loader = (id++).ToString(), apply = (id++).ToString();
            json[loader] = new JsonObject { ["class_type"] = "ControlNetLoader", ["inputs"] = new JsonObject { ["control_net_name"] = net } };
            var inputs = new JsonObject { ["control_net"] = new JsonArray(loader, 0), ["image"] = new JsonArray("11", 0), ["strength"] = strength };
            if (old) inputs["conditioning"] = positive.DeepClone();
            else
            {
                inputs["positive"] = positive.DeepClone();
                inputs["negative"] = negative.DeepClone();
                inputs["start_percent"] = start;
                inputs["end_percent"] = end;
            }
            json[apply] = new JsonObject { ["class_type"] = old ? "ControlNetApply" : "ControlNetApplyAdvanced", ["inputs"] = inputs };
            positive = new JsonArray(apply, 0);
            if (!old) negative = new JsonArray(apply, 1);
        }
        json["3"]!["inputs"]!["positive"] = positive;
        json["3"]!["inputs"]!["negative"] = negative;
        return WorkflowOverride.ApplyAll(h.Engine.Parse(json.ToJsonString()), ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", .. Small], h.Env.Catalog);
    }

    private static async Task<byte[]> Image(EngineHarness h, ApiWorkflow workflow)
    {
        var (_, job) = await h.RunAsync(workflow);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        return ImageDecoder.Decode(File.ReadAllBytes(h.SavedFiles(job).Single())).Pixels;
    }

    [Test]
    public async Task A_controlnet_changes_the_image_and_strength_0_gives_the_plain_image_bit_for_bit()
    {
        await using var h = EngineHarness.Create();
        WriteNet(h, "cn.safetensors", seed: 1);
        byte[] plain = await Image(h, h.Workflow("txt2img_sd15.json", ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", .. Small]));
        byte[] zero = await Image(h, With(h, ("cn.safetensors", 0.0, 0.0, 1.0, false)));
        Assert.That(zero, Is.EqualTo(plain), "strength 0 is the workflow without the node");
        byte[] controlled = await Image(h, With(h, ("cn.safetensors", 1.0, 0.0, 1.0, false)));
        Assert.That(controlled, Is.Not.EqualTo(plain));
        byte[] late = await Image(h, With(h, ("cn.safetensors", 1.0, 0.5, 1.0, false)));
        Assert.That(late, Is.Not.EqualTo(controlled).And.Not.EqualTo(plain), "a window changes which steps are controlled");
        byte[] old = await Image(h, With(h, ("cn.safetensors", 1.0, 0.0, 1.0, true)));
        Assert.That(old, Is.EqualTo(controlled), "the old node's control reaches the uncond too, as the advanced node's does");
    }

    [Test]
    public async Task Two_chained_controlnets_in_different_layouts_run_and_differ_from_each_alone()
    {
        await using var h = EngineHarness.Create();
        WriteNet(h, "a.safetensors", seed: 2, ControlNetKeyLayout.Ldm);
        WriteNet(h, "b.safetensors", seed: 3, ControlNetKeyLayout.Diffusers);
        byte[] a = await Image(h, With(h, ("a.safetensors", 0.8, 0.0, 1.0, false)));
        byte[] b = await Image(h, With(h, ("b.safetensors", 0.6, 0.0, 0.5, false)));
        byte[] both = await Image(h, With(h, ("a.safetensors", 0.8, 0.0, 1.0, false), ("b.safetensors", 0.6, 0.0, 0.5, false)));
        Assert.That(both, Is.Not.EqualTo(a).And.Not.EqualTo(b));
        Assert.That(h.Env.Cache.Loaded.Count(p => p.Contains("controlnet", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public async Task An_sdxl_controlnet_on_the_sd15_model_fails_the_sampler_naming_both_families()
    {
        await using var h = EngineHarness.Create();
        WriteNet(h, "xl.safetensors", seed: 4, config: TinySizes.SdxlConfig().Unet);
        var (_, job) = await h.RunAsync(With(h, ("xl.safetensors", 1.0, 0.0, 1.0, false)));
        Assert.That(job.Status, Is.EqualTo(JobStatus.Failed));
        Assert.That(job.Error!.Message, Does.Contain("SDXL").And.Contain("SD1.x").And.Contain("xl.safetensors"));
    }

    [Test]
    public async Task Controlnet_values_hints_and_weights_are_released_with_the_cache()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long baseline = Tensor.LiveCount;
        await using (var h = EngineHarness.Create())
        {
            WriteNet(h, "cn.safetensors", seed: 5);
            await Image(h, With(h, ("cn.safetensors", 1.0, 0.0, 1.0, false), ("cn.safetensors", 0.5, 0.2, 0.8, false)));
            await Image(h, With(h, ("cn.safetensors", 1.0, 0.0, 1.0, true)));
            await h.Engine.FreeAsync();
            h.Env.Cache.Free();
            Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
        }
    }
}
