using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;
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

    [Test]
    public async Task Txt2img_sdxl_lora_changes_the_image_through_the_unet_and_through_clip_g_alone()
    {
        CheckpointConfig config = CheckpointLoader.ReadConfig(Path.Combine(Models, "checkpoints", "tiny_sdxl.safetensors"))!;
        WriteKohyaLora("full.safetensors", config, unet: true, te1: true, te2: true);
        WriteKohyaLora("te2_only.safetensors", config, unet: false, te1: false, te2: true);

        byte[] plain = await Run("txt2img_sdxl.json");
        byte[] styled = await Run("txt2img_sdxl_lora.json", "10.lora_name=full.safetensors", "10.strength_model=1", "10.strength_clip=1");
        Assert.That(styled, Is.Not.EqualTo(plain), "the LoRA changes the image");
        byte[] clipG = await Run("txt2img_sdxl_lora.json", "10.lora_name=te2_only.safetensors", "10.strength_model=0", "10.strength_clip=1");
        Assert.That(clipG, Is.Not.EqualTo(plain), "lora_te2_ keys patch clip_g");
        byte[] zero = await Run("txt2img_sdxl_lora.json", "10.lora_name=full.safetensors", "10.strength_model=0", "10.strength_clip=0");
        Assert.That(zero, Is.EqualTo(plain), "strength 0 is no LoRA");
    }

    // A kohya SDXL LoRA over every 2-D weight of the UNet's attention and of both text encoders' layers, rank 4.
    private void WriteKohyaLora(string name, CheckpointConfig config, bool unet, bool te1, bool te2)
    {
        string path = Path.Combine(Models, "loras", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var scope = Torch.NewScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        ulong seed = 1;
        void Add(Module network, string prefix, Func<string, bool> wanted)
        {
            foreach (var (param, p) in network.NamedParameters())
            {
                if (p.Shape.Length != 2 || !param.EndsWith(".weight", StringComparison.Ordinal) || !wanted(param)) continue;
                string key = prefix + param[..^".weight".Length].Replace('.', '_');
                tensors.Add(new(key + ".lora_up.weight", Torch.Randn([p.Shape[0], 4], seed++) * 0.5));
                tensors.Add(new(key + ".lora_down.weight", Torch.Randn([4, p.Shape[1]], seed++) * 0.5));
                tensors.Add(new(key + ".alpha", Torch.Scalar(4.0)));
            }
        }
        static bool Layers(string param) => param.StartsWith("encoder.layers.", StringComparison.Ordinal);
        if (unet)
        {
            using var u = new UnetModel(config.Unet!);
            Add(u, "lora_unet_", param => param.Contains(".attn", StringComparison.Ordinal));
        }
        if (te1)
        {
            using var l = new ClipTextModel(config.Clip!);
            Add(l, "lora_te1_text_model_", Layers);
        }
        if (te2)
        {
            using var g = new ClipTextModel(config.ClipG!);
            Add(g, "lora_te2_text_model_", Layers);
        }
        SafetensorsTensors.Save(path, tensors);
    }
}
