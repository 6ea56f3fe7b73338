using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>
/// ComfyUI's reference client flow (websockets_api_example.py) against the real SD1.5 nodes on a tiny checkpoint:
/// open ws → POST /prompt → wait for executing(node: null) → GET /history/{id} → GET /view.
/// </summary>
public sealed class Sd15ReferenceFlowTests
{
    [Test]
    public async Task Txt2img_on_a_tiny_checkpoint_follows_the_reference_flow_and_resubmission_is_cached()
    {
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        TinyModelWriter.WriteSd15(Path.Combine(server.Options.ModelsDir, "checkpoints", "tiny.safetensors"), seed: 5);
        await using var socket = await server.ConnectAsync("sd-client");
        await socket.NextAsync(); // the status message sent on connect

        var first = await ReferenceClientFlow.RunAsync(server, socket, "sd-client", Txt2Img());

        Assert.That(first.Types.First(t => t != "status"), Is.EqualTo("execution_start"), "queue changes may send status first");
        Assert.That(first.Types, Does.Contain("execution_cached"));
        var executing = first.OfType("executing").Select(f => f.Data!["node"]?.GetValue<string>()).ToList();
        Assert.That(executing.Where(n => n is not null), Is.EquivalentTo(new[] { "3", "4", "5", "6", "7", "8", "9" }));
        Assert.That(executing.Last(), Is.Null, "the finish signal");
        var progress = first.OfType("progress").Select(f => (f.Data!["node"]!.GetValue<string>(), f.Data["value"]!.GetValue<int>(), f.Data["max"]!.GetValue<int>()));
        Assert.That(progress, Is.EqualTo(new[] { ("3", 1, 2), ("3", 2, 2) }), "one progress message per sampler step");
        Assert.That(first.OfType("executed").Single().Data!["node"]!.GetValue<string>(), Is.EqualTo("9"));
        Assert.That(first.Types, Does.Contain("execution_success"));

        var file = first.Files.Single();
        Assert.That(file.ContentType, Is.EqualTo("image/png"));
        Assert.That(file.Image["filename"]!.GetValue<string>(), Is.EqualTo("ComfyUI_00001_.png"));
        DecodedImage png = ImageDecoder.Decode(file.Bytes);
        Assert.That((png.Width, png.Height), Is.EqualTo((64, 64)));
        Assert.That(PngText.Read(file.Bytes)["prompt"], Does.Contain("\"KSampler\""), "the prompt travels in the PNG");

        var second = await ReferenceClientFlow.RunAsync(server, socket, "sd-client", Txt2Img());
        Assert.That(second.OfType("execution_cached").Single().Data!["nodes"]!.AsArray().Select(n => n!.GetValue<string>()),
            Is.EquivalentTo(new[] { "3", "4", "5", "6", "7", "8", "9" }));
        Assert.That(second.OfType("progress"), Is.Empty);
        Assert.That(Directory.GetFiles(server.Folders.Output), Has.Length.EqualTo(1), "no new file for a cached resubmission");
        Assert.That(second.Files.Single().Bytes, Is.EqualTo(file.Bytes));
    }

    private static JsonObject Txt2Img()
    {
        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "workflows", "txt2img_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = "tiny.safetensors";
        prompt["3"]!["inputs"]!["steps"] = 2;
        prompt["5"]!["inputs"]!["width"] = 64;
        prompt["5"]!["inputs"]!["height"] = 64;
        return prompt;
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory");
    }
}
