using System.Text.Json.Nodes;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>The shipped txt2img workflow on a tiny SD1.5 checkpoint, at any size, for the resource-limit tests.</summary>
internal static class Sd15Jobs
{
    public const string Checkpoint = "tiny.safetensors";

    public static void WriteCheckpoint(ComfyServer server) =>
        TinyModelWriter.WriteSd15(Path.Combine(server.Options.ModelsDir, "checkpoints", Checkpoint), seed: 5);

    /// <summary>txt2img_sd15.json: node 3 KSampler, 5 EmptyLatentImage, 8 VAEDecode, 9 SaveImage.</summary>
    public static JsonObject Txt2Img(long width, long height, long batch = 1, long steps = 1)
    {
        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "workflows", "txt2img_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = Checkpoint;
        prompt["3"]!["inputs"]!["steps"] = steps;
        prompt["5"]!["inputs"]!["width"] = width;
        prompt["5"]!["inputs"]!["height"] = height;
        prompt["5"]!["inputs"]!["batch_size"] = batch;
        return prompt;
    }

    /// <summary>Waits until <paramref name="nodeId"/> has started in job <paramref name="jobId"/>.</summary>
    public static async Task NodeStartedAsync(ComfyServer server, string jobId, string nodeId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await foreach (var e in server.Engine.Subscribe(jobId, 1, cancel.Token))
        {
            if (e is NodeStarted started && started.NodeId == nodeId) return;
            if (e is JobSucceeded or JobFailed or JobCancelled) Assert.Fail($"job ended before node {nodeId} started: {e}");
        }
    }

    public static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory");
    }
}
