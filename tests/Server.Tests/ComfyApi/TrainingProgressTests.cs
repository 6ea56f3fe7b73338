using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>
/// The shipped LoRA training workflow through POST /prompt on a tiny checkpoint: every training step reaches the
/// WebSocket as a ComfyUI `progress` message whose data carries value/max plus the step's loss, learning rate and ETA.
/// </summary>
public sealed class TrainingProgressTests
{
    [Test]
    public async Task Each_training_step_is_a_progress_message_with_its_loss()
    {
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        TinyModelWriter.WriteSd15(Path.Combine(server.Options.ModelsDir, "checkpoints", "tiny.safetensors"), seed: 5);
        string dataset = Path.Combine(server.Folders.Input, "dataset");
        Directory.CreateDirectory(dataset);
        var random = new Random(1);
        for (int n = 0; n < 2; n++)
        {
            byte[] rgb = new byte[32 * 32 * 3];
            random.NextBytes(rgb);
            File.WriteAllBytes(Path.Combine(dataset, $"{n}.png"), PngWriter.Encode(new DecodedImage(32, 32, 3, rgb)));
            File.WriteAllText(Path.Combine(dataset, $"{n}.txt"), "a sks picture");
        }
        await using var socket = await server.ConnectAsync("trainer");
        await socket.NextAsync();

        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "workflows", "train_lora_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = "tiny.safetensors";
        prompt["12"]!["inputs"]!["steps"] = 3;
        var run = await ReferenceClientFlow.RunAsync(server, socket, "trainer", prompt);

        Assert.That(run.Types, Does.Contain("execution_success"));
        var ticks = run.OfType("progress").Select(f => f.Data!).Where(d => d["node"]!.GetValue<string>() == "12").ToList();
        Assert.That(ticks.Select(d => d["value"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(ticks.All(d => d["max"]!.GetValue<int>() == 3 && d["loss"]!.GetValue<double>() > 0 && d["learning_rate"]!.GetValue<double>() == 0.0005));
        Assert.That(ticks[^1]["eta_seconds"]!.GetValue<double>(), Is.EqualTo(0));
        Assert.That(Directory.GetFiles(Path.Combine(server.Folders.Output, "loras")), Has.Length.EqualTo(1));
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory");
    }
}
