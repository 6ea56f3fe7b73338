using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Server.Tests.Grpc.RealClients;

namespace CharacterGen.Server.Tests.Cli;

/// <summary>
/// The shipped SD1.5 workflows end to end through `charactergen make-test-checkpoint` and `charactergen run`, in-process,
/// on a models folder holding only the tiny checkpoint and its tokenizer.
/// </summary>
public sealed class WorkflowRunTests
{
    private string _dir = null!;
    private string Models => Path.Combine(_dir, "models");
    private string Input => Path.Combine(_dir, "input");
    private string Output => Path.Combine(_dir, "output");

    [OneTimeSetUp]
    public async Task WriteCheckpoint()
    {
        _dir = Path.Combine(Path.GetTempPath(), "cg-workflows-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Input);
        var (exit, stdout, stderr) = await CliRunner.RunAsync("make-test-checkpoint", "--family", "sd15",
            "--out", Path.Combine(Models, "checkpoints", "tiny.safetensors"), "--seed", "3");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("tiny.tokenizer"));
        WriteInputImages();
    }

    [OneTimeTearDown]
    public void Delete() => Directory.Delete(_dir, recursive: true);

    // A photo-like RGB image and the same with a transparent square (the area to repaint).
    private void WriteInputImages()
    {
        const int size = 64;
        var rgb = new byte[size * size * 3];
        var rgba = new byte[size * size * 4];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                byte r = (byte)(x * 4), g = (byte)(y * 4), b = (byte)((x + y) * 2);
                rgb[(y * size + x) * 3] = r;
                rgb[(y * size + x) * 3 + 1] = g;
                rgb[(y * size + x) * 3 + 2] = b;
                int i = (y * size + x) * 4;
                (rgba[i], rgba[i + 1], rgba[i + 2]) = (r, g, b);
                rgba[i + 3] = x is >= 16 and < 48 && y is >= 16 and < 48 ? (byte)0 : (byte)255;
            }
        File.WriteAllBytes(Path.Combine(Input, "photo.png"), PngWriter.Encode(new DecodedImage(size, size, 3, rgb)));
        File.WriteAllBytes(Path.Combine(Input, "inpaint.png"), PngWriter.Encode(new DecodedImage(size, size, 4, rgba)));
    }

    private static string Workflow(string name) => Path.Combine(Repository.Root, "workflows", name);

    /// <summary>Runs a workflow small and fast; returns the saved PNG's bytes.</summary>
    private async Task<byte[]> Run(string workflow, string outDir, params string[] sets)
    {
        string[] args = ["run", Workflow(workflow), "--models", Models, "--input", Input, "--out", outDir,
            "--set", "4.ckpt_name=tiny.safetensors", "--set", "3.steps=3"];
        foreach (string set in sets) args = [.. args, "--set", set];
        var (exit, stdout, stderr) = await CliRunner.RunAsync(args);
        Assert.That(exit, Is.EqualTo(0), stdout + stderr);
        var line = stdout.Split('\n').Single(l => l.StartsWith("output 9: ", StringComparison.Ordinal));
        var image = JsonNode.Parse(line["output 9: ".Length..])!["images"]![0]!;
        return File.ReadAllBytes(Path.Combine(outDir, (string)image["subfolder"]!, (string)image["filename"]!));
    }

    private static byte[] Pixels(byte[] png) => ImageDecoder.Decode(png).Pixels;

    [Test]
    public async Task Txt2img_is_reproducible_for_a_seed_and_changes_with_it()
    {
        string[] small = ["5.width=64", "5.height=64"];
        byte[] first = await Run("txt2img_sd15.json", Output, [.. small, "3.seed=11"]);
        byte[] again = await Run("txt2img_sd15.json", Output, [.. small, "3.seed=11"]);
        byte[] other = await Run("txt2img_sd15.json", Output, [.. small, "3.seed=12"]);

        var decoded = ImageDecoder.Decode(first);
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((64, 64)));
        Assert.That(Pixels(again), Is.EqualTo(Pixels(first)));
        Assert.That(Pixels(other), Is.Not.EqualTo(Pixels(first)));
        Assert.That(Directory.GetFiles(Output, "ComfyUI_*.png").Select(Path.GetFileName),
            Is.SupersetOf(new[] { "ComfyUI_00001_.png", "ComfyUI_00002_.png", "ComfyUI_00003_.png" }));

        var text = PngText.Read(first);
        Assert.That(JsonNode.Parse(text["prompt"])!["3"]!["inputs"]!["seed"]!.GetValue<long>(), Is.EqualTo(11));
    }

    [Test]
    public async Task Img2img_from_a_photo_is_reproducible_for_a_seed_and_changes_with_it()
    {
        string outDir = Path.Combine(_dir, "img2img");
        byte[] first = await Run("img2img_sd15.json", outDir, "3.seed=5", "10.image=photo.png");
        byte[] again = await Run("img2img_sd15.json", outDir, "3.seed=5", "10.image=photo.png");
        byte[] other = await Run("img2img_sd15.json", outDir, "3.seed=6", "10.image=photo.png");
        Assert.That((ImageDecoder.Decode(first).Width, ImageDecoder.Decode(first).Height), Is.EqualTo((64, 64)));
        Assert.That(Pixels(again), Is.EqualTo(Pixels(first)));
        Assert.That(Pixels(other), Is.Not.EqualTo(Pixels(first)));
        Assert.That(Directory.GetFiles(outDir).Select(Path.GetFileName), Does.Contain("avatar_00001_.png"));
    }

    [Test]
    public async Task Inpainting_is_reproducible_for_a_seed_and_changes_with_it()
    {
        string outDir = Path.Combine(_dir, "inpaint");
        byte[] first = await Run("inpaint_sd15.json", outDir, "3.seed=1");
        byte[] again = await Run("inpaint_sd15.json", outDir, "3.seed=1");
        byte[] other = await Run("inpaint_sd15.json", outDir, "3.seed=2");
        Assert.That(Pixels(again), Is.EqualTo(Pixels(first)));
        Assert.That(Pixels(other), Is.Not.EqualTo(Pixels(first)));
    }

    [Test]
    public async Task An_image_outside_the_input_folder_fails_validation()
    {
        var (exit, _, stderr) = await CliRunner.RunAsync("run", Workflow("img2img_sd15.json"), "--models", Models, "--input", Input,
            "--out", Output, "--set", "4.ckpt_name=tiny.safetensors", "--set", "10.image=../models/checkpoints/tiny.safetensors");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("custom_validation_failed").And.Contain("Invalid image file"));
    }

    [Test]
    public async Task Make_test_checkpoint_refuses_other_files_and_families()
    {
        var (exit, _, stderr) = await CliRunner.RunAsync("make-test-checkpoint", "--out", Path.Combine(_dir, "x.ckpt"));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain(".safetensors"));
        (exit, _, _) = await CliRunner.RunAsync("make-test-checkpoint", "--family", "sd3", "--out", Path.Combine(_dir, "x.safetensors"));
        Assert.That(exit, Is.Not.EqualTo(0));
    }

    [Test]
    public async Task Make_test_checkpoint_is_deterministic()
    {
        string a = Path.Combine(_dir, "a", "t.safetensors"), b = Path.Combine(_dir, "b", "t.safetensors");
        Assert.That((await CliRunner.RunAsync("make-test-checkpoint", "--out", a, "--seed", "9")).Exit, Is.EqualTo(0));
        Assert.That((await CliRunner.RunAsync("make-test-checkpoint", "--out", b, "--seed", "9")).Exit, Is.EqualTo(0));
        Assert.That(File.ReadAllBytes(b), Is.EqualTo(File.ReadAllBytes(a)));
        Assert.That(File.ReadAllText(Path.Combine(_dir, "b", "t.tokenizer", "vocab.json")),
            Is.EqualTo(File.ReadAllText(Path.Combine(_dir, "a", "t.tokenizer", "vocab.json"))));
    }
}
