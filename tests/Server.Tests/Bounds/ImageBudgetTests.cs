using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Server.Tests.ComfyApi;
using CharacterGen.Server.Tests.ComfyApi.Support;
using CharacterGen.Tensors;
using CharacterGen.Tests.Shared;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10 item 1 for images, end to end: an uploaded PNG whose header claims 30,000² (a few hundred bytes on disk)
/// is refused by POST /prompt at validation, from its header, before anything decodes it; a normal upload still runs.
/// </summary>
public sealed class ImageBudgetTests
{
    private static JsonObject LoadAndSave(string image) => new()
    {
        ["1"] = new JsonObject { ["class_type"] = "LoadImage", ["inputs"] = new JsonObject { ["image"] = image } },
        ["9"] = new JsonObject { ["class_type"] = "SaveImage", ["inputs"] = new JsonObject { ["images"] = new JsonArray("1", 0), ["filename_prefix"] = "x" } },
    };

    [Test]
    public async Task An_uploaded_png_claiming_30000_square_is_refused_at_validation_naming_the_node_the_estimate_and_the_limit()
    {
        const long budget = 4L << 30;
        await using var server = await ComfyServer.StartAsync(o => o with { MemoryBudgetBytes = budget }, builtinNodes: true);
        var (uploaded, uploadBody) = await UploadTests.Upload(server, CraftedPng.ClaimingSize(30000, 30000), "bomb.png");
        Assert.That(uploaded, Is.EqualTo(200), uploadBody);
        long liveBefore = Torch.NativeLiveTensors;

        var (status, body) = await server.PostPromptAsync(new JsonObject { ["prompt"] = LoadAndSave("bomb.png") });

        Assert.That(status, Is.EqualTo(400), body.ToJsonString());
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("memory_budget_exceeded"));
        Assert.That(body["error"]!["message"]!.GetValue<string>(), Does.Contain("memory limit of 4.0 GiB"));
        var load = body["node_errors"]!["1"]!;
        Assert.That(load["class_type"]!.GetValue<string>(), Is.EqualTo("LoadImage"));
        var error = load["errors"]![0]!;
        Assert.That(error["type"]!.GetValue<string>(), Is.EqualTo("memory_budget_exceeded"));
        Assert.That(error["details"]!.GetValue<string>(), Does.Contain("node 1 (LoadImage)"));
        Assert.That(error["extra_info"]!["estimated_bytes"]!.GetValue<long>(), Is.GreaterThan(30000L * 30000 * 3 * 4));
        Assert.That(error["extra_info"]!["limit_bytes"]!.GetValue<long>(), Is.EqualTo(budget));
        Assert.That(server.Engine.Queue.Running, Is.Null, "nothing was queued");
        Assert.That(Torch.NativeLiveTensors, Is.EqualTo(liveBefore), "nothing was decoded");
    }

    [Test]
    public async Task The_shipped_img2img_workflow_on_a_normal_upload_still_runs()
    {
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        Sd15Jobs.WriteCheckpoint(server);
        var photo = new byte[64 * 64 * 3];
        for (int i = 0; i < photo.Length; i++) photo[i] = (byte)(i * 7);
        var (uploaded, _) = await UploadTests.Upload(server, PngWriter.Encode(new DecodedImage(64, 64, 3, photo)), "photo.png");
        Assert.That(uploaded, Is.EqualTo(200));
        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Sd15Jobs.RepositoryRoot(), "workflows", "img2img_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = Sd15Jobs.Checkpoint;
        prompt["3"]!["inputs"]!["steps"] = 1;

        var id = await server.QueueAsync(prompt);

        Assert.That((await server.Engine.WaitAsync(id)).Status, Is.EqualTo(JobStatus.Succeeded));
    }
}
