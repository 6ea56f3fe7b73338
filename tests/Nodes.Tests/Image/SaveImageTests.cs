using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Image;

/// <summary>SaveImage and PreviewImage: ComfyUI's naming, counter, subfolders, metadata and ui.</summary>
public sealed class SaveImageTests
{
    private NodeTestEnvironment _env = null!;

    [SetUp]
    public void SetUp() => _env = NodeTestEnvironment.Create(withCheckpoint: false);

    [TearDown]
    public void TearDown() => _env.Dispose();

    private static Tensor Images(int batch) => Torch.Rand([batch, 8, 6, 3], new Generator(5));

    private List<Dictionary<string, object?>> Save(Tensor images, string prefix = "ComfyUI", JsonNode? prompt = null, JsonNode? extra = null)
    {
        var output = _env.Run("SaveImage", ("images", images), ("filename_prefix", prefix), ("prompt", prompt), ("extra_pnginfo", extra));
        Assert.That(output.Values, Is.Empty);
        return (List<Dictionary<string, object?>>)output.Ui!["images"]!;
    }

    [Test]
    public void The_first_image_in_an_empty_folder_is_prefix_00001()
    {
        using var scope = Torch.NewScope();
        var saved = Save(Images(1));
        Assert.That(saved.Single()["filename"], Is.EqualTo("ComfyUI_00001_.png"));
        Assert.That(saved.Single()["subfolder"], Is.EqualTo(""));
        Assert.That(saved.Single()["type"], Is.EqualTo("output"));
        Assert.That(File.Exists(Path.Combine(_env.Data.Output, "ComfyUI_00001_.png")));
        Assert.That(Directory.GetFiles(_env.Data.Output), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void A_batch_of_two_is_00001_and_00002_and_the_next_save_continues()
    {
        using var scope = Torch.NewScope();
        var first = Save(Images(2));
        Assert.That(first.Select(s => s["filename"]), Is.EqualTo(new[] { "ComfyUI_00001_.png", "ComfyUI_00002_.png" }));
        var next = Save(Images(1));
        Assert.That(next.Single()["filename"], Is.EqualTo("ComfyUI_00003_.png"));
    }

    [Test]
    public void The_counter_follows_the_highest_existing_file_of_that_prefix_only()
    {
        using var scope = Torch.NewScope();
        File.WriteAllBytes(Path.Combine(_env.Data.Output, "ComfyUI_00041_.png"), []);
        File.WriteAllBytes(Path.Combine(_env.Data.Output, "Other_00099_.png"), []);
        File.WriteAllBytes(Path.Combine(_env.Data.Output, "ComfyUIx_00077_.png"), []);
        Assert.That(Save(Images(1)).Single()["filename"], Is.EqualTo("ComfyUI_00042_.png"));
    }

    [Test]
    public void A_prefix_with_a_subfolder_saves_there_and_reports_it()
    {
        using var scope = Torch.NewScope();
        var saved = Save(Images(1), "characters/alice/portrait").Single();
        Assert.That(saved["subfolder"], Is.EqualTo("characters/alice"));
        Assert.That(saved["filename"], Is.EqualTo("portrait_00001_.png"));
        Assert.That(File.Exists(Path.Combine(_env.Data.Output, "characters", "alice", "portrait_00001_.png")));
    }

    [TestCase("../escape")]
    [TestCase("a/../../escape")]
    [TestCase("/tmp/escape")]
    public void A_prefix_that_leaves_the_output_folder_is_refused(string prefix)
    {
        using var scope = Torch.NewScope();
        Assert.Throws<PathEscapeException>(() => Save(Images(1), prefix));
        Assert.That(Directory.GetFiles(_env.Root, "escape*", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void Variables_in_the_prefix_are_expanded()
    {
        using var scope = Torch.NewScope();
        var saved = Save(Images(1), "img_%width%x%height%").Single();
        Assert.That(saved["filename"], Is.EqualTo("img_6x8_00001_.png"));
    }

    [Test]
    public void The_png_carries_the_prompt_and_each_extra_pnginfo_key_and_the_pixels()
    {
        using var scope = Torch.NewScope();
        var prompt = JsonNode.Parse("""{"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI"}}}""");
        var extra = JsonNode.Parse("""{"workflow": {"nodes": [], "version": 0.4}, "note": "hello"}""");
        Tensor images = Images(1);
        var saved = Save(images, prompt: prompt, extra: extra).Single();
        byte[] png = File.ReadAllBytes(Path.Combine(_env.Data.Output, (string)saved["filename"]!));

        var text = PngText.Read(png);
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(text["prompt"]), prompt), Is.True);
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(text["workflow"]), extra!["workflow"]), Is.True);
        Assert.That(text["note"], Is.EqualTo("\"hello\""), "values are JSON, as json.dumps writes them");
        Assert.That(ImageDecoder.Decode(png).Pixels, Is.EqualTo(ImageTensors.ToPixels(images).Pixels));
    }

    [Test]
    public void PreviewImage_writes_into_temp_with_a_random_prefix()
    {
        using var scope = Torch.NewScope();
        var output = _env.Run("PreviewImage", ("images", Images(1)), ("prompt", null), ("extra_pnginfo", null));
        var saved = ((List<Dictionary<string, object?>>)output.Ui!["images"]!).Single();
        Assert.That(saved["type"], Is.EqualTo("temp"));
        Assert.That((string)saved["filename"]!, Does.Match("^ComfyUI_temp_[a-z]{5}_00001_\\.png$"));
        Assert.That(File.Exists(Path.Combine(_env.Data.Temp, (string)saved["filename"]!)));
    }
}
