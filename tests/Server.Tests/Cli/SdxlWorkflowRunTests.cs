using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.Cli;

/// <summary>
/// The shipped SDXL workflows end to end through `charactergen make-test-checkpoint --family sdxl` and `charactergen run`,
/// in-process, on a models folder holding only the tiny SDXL checkpoint and its tokenizer.
/// </summary>
public sealed class SdxlWorkflowRunTests
{
    // 64² latents in the encoder's size conditioning too, so the tiny run stays fast.
    private static readonly string[] Small =
    [
        "3.steps=2", "5.width=64", "5.height=64", "6.width=64", "6.height=64", "6.target_width=64", "6.target_height=64", "3.seed=7",
    ];

    private string _dir = null!;
    private string Models => Path.Combine(_dir, "models");
    private string Output => Path.Combine(_dir, "output");

    [OneTimeSetUp]
    public async Task WriteCheckpoint()
    {
        _dir = Path.Combine(Path.GetTempPath(), "cg-sdxl-workflows-" + Guid.NewGuid().ToString("N"));
        var (exit, stdout, stderr) = await CliRunner.RunAsync("make-test-checkpoint", "--family", "sdxl",
            "--out", Path.Combine(Models, "checkpoints", "tiny_sdxl.safetensors"), "--seed", "4");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("tiny_sdxl.tokenizer"));
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(_dir, recursive: true);

    private static string Workflow(string name) => Path.Combine(Repository.Root, "workflows", name);

    /// <summary>Runs a workflow small; returns the saved image's pixels.</summary>
    private async Task<byte[]> Run(string workflow, params string[] sets)
    {
        string[] args = ["run", Workflow(workflow), "--models", Models, "--out", Output, "--set", "4.ckpt_name=tiny_sdxl.safetensors"];
        foreach (string set in (string[])[.. Small, .. sets]) args = [.. args, "--set", set];
        var (exit, stdout, stderr) = await CliRunner.RunAsync(args);
        Assert.That(exit, Is.EqualTo(0), stdout + stderr);
        var line = stdout.Split('\n').Single(l => l.StartsWith("output 9: ", StringComparison.Ordinal));
        var image = JsonNode.Parse(line["output 9: ".Length..])!["images"]![0]!;
        var decoded = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Output, (string)image["subfolder"]!, (string)image["filename"]!)));
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((64, 64)));
        return decoded.Pixels;
    }

    [Test]
    public async Task Txt2img_sdxl_runs_on_the_tiny_sdxl_checkpoint_reproducibly()
    {
        byte[] first = await Run("txt2img_sdxl.json");
        byte[] again = await Run("txt2img_sdxl.json");
        Assert.That(again, Is.EqualTo(first));
    }
}
