using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Tests.ComfyApi.Support;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>
/// Training progress reaches a Python grpcio client through Workflows/Run as the typed TrainingProgress message, once
/// per step, with the loss (issue #11's acceptance), on the shipped LoRA training workflow and a tiny checkpoint.
/// </summary>
[Category("RealClient")]
public sealed class PythonTrainingWatchTests
{
    private const string Python = "/usr/bin/python3";

    [Test]
    public async Task Each_training_step_reaches_a_grpcio_client_with_its_loss()
    {
        if (!await ExternalProcess.SucceedsAsync(Python, "-c", "import grpc, grpc_tools"))
            Prerequisites.Missing("python3-grpcio and python3-grpc-tools are not installed.");
        await using var server = await ComfyServer.StartAsync(builtinNodes: true);
        TinyModelWriter.WriteSd15(Path.Combine(server.Options.ModelsDir, "checkpoints", "tiny.safetensors"), seed: 5);
        string dataset = Path.Combine(server.Folders.Input, "dataset");
        Directory.CreateDirectory(dataset);
        var random = new Random(2);
        for (int n = 0; n < 2; n++)
        {
            byte[] rgb = new byte[32 * 32 * 3];
            random.NextBytes(rgb);
            File.WriteAllBytes(Path.Combine(dataset, $"{n}.png"), PngWriter.Encode(new DecodedImage(32, 32, 3, rgb)));
            File.WriteAllText(Path.Combine(dataset, $"{n}.txt"), "a sks picture");
        }
        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "workflows", "train_lora_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = "tiny.safetensors";
        prompt["12"]!["inputs"]!["steps"] = 3;
        string workflow = Path.Combine(server.Options.DataDir, "train.json");
        File.WriteAllText(workflow, prompt.ToJsonString());

        var result = await ExternalProcess.RunAsync(Python,
            [Path.Combine(Repository.Clients, "python", "training_watch.py"), "--address", server.GrpcAddress.Authority,
             "--protos", Repository.Protos, "--test-protos", Repository.TestProtos, "--api-protos", Repository.ApiProtos,
             "--workflow", workflow],
            Repository.Root, TimeSpan.FromMinutes(4));

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Output);
        var lines = result.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).ToList();
        var ticks = lines.Where(l => l["step"] is not null).ToList();
        Assert.That(ticks.Select(t => t["step"]!.GetValue<int>()), Is.EqualTo(new[] { 1, 2, 3 }), result.Output);
        Assert.That(ticks.Select(t => t["value"]!.GetValue<double>()), Is.EqualTo(new[] { 1.0, 2.0, 3.0 }));
        Assert.That(ticks.All(t => t["total_steps"]!.GetValue<int>() == 3 && t["loss"]!.GetValue<double>() > 0), result.Output);
        Assert.That(ticks.All(t => t["details_loss"]!.GetValue<double>() == t["loss"]!.GetValue<double>()), "details carry the same loss");
        Assert.That(ticks.All(t => t["learning_rate"]!.GetValue<double>() == 0.0005), result.Output);
        Assert.That(lines[^1]["final"]!.GetValue<string>(), Is.EqualTo("succeeded"));
    }
}
