using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;
using CharacterGen.Tests.Shared;

namespace CharacterGen.Nodes.Tests.Bounds;

/// <summary>
/// Issue #10 item 1 for image nodes: LoadImage estimates from the file's header (so a small file claiming a huge image
/// is refused at validation, unread), and the shape flows on through ImageScale, VAEEncode and SaveImage.
/// </summary>
public sealed class ImageMemoryTests
{
    private NodeTestEnvironment _env = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        File.WriteAllBytes(Path.Combine(_env.Data.Input, "bomb.png"), CraftedPng.ClaimingSize(30000, 30000));
        File.WriteAllBytes(Path.Combine(_env.Data.Input, "photo.png"), PngWriter.Encode(new DecodedImage(64, 48, 3, new byte[64 * 48 * 3])));
    }

    [OneTimeTearDown]
    public void TearDown() => _env.Dispose();

    private ValidationResult Validate(JsonObject prompt, long budget) =>
        WorkflowValidator.Validate(ApiWorkflow.Parse(prompt.ToJsonString()), _env.Catalog, new ValidationOptions
        {
            Services = new ServiceBag().Add(_env.Models).Add(_env.Data).Add(_env.Cache).Add(new MemoryBudget(budget)),
        });

    private static JsonObject Node(string type, JsonObject inputs) => new() { ["class_type"] = type, ["inputs"] = inputs };

    /// <summary>LoadImage (1) → optionally ImageScale (2) → SaveImage (9).</summary>
    private static JsonObject LoadAndSave(string image, long? scaleTo = null)
    {
        var prompt = new JsonObject { ["1"] = Node("LoadImage", new() { ["image"] = image }) };
        string last = "1";
        if (scaleTo is { } side)
        {
            prompt["2"] = Node("ImageScale", new()
            {
                ["image"] = new JsonArray("1", 0), ["upscale_method"] = "nearest-exact", ["width"] = side, ["height"] = side, ["crop"] = "disabled",
            });
            last = "2";
        }
        prompt["9"] = Node("SaveImage", new() { ["images"] = new JsonArray(last, 0), ["filename_prefix"] = "x" });
        return prompt;
    }

    private MemoryEstimate Estimate(string classType, Dictionary<string, object?> literals, Func<string, object?> upstream, long budget = long.MaxValue) =>
        _env.Node(classType).EstimateMemory!(new MemoryEstimateContext(
            new LiteralInputs(literals, new ServiceBag().Add(new MemoryBudget(budget))), upstream));

    [Test]
    public void The_header_gives_the_size_without_decoding()
    {
        var header = ImageDecoder.ReadHeader(Path.Combine(_env.Data.Input, "bomb.png"));
        Assert.That((header.Width, header.Height, header.Channels), Is.EqualTo((30000, 30000, 3)));
        Assert.That(new FileInfo(Path.Combine(_env.Data.Input, "bomb.png")).Length, Is.LessThan(1024), "a tiny file");
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.ReadHeader(Path.Combine(_env.Root, "none.png")));
    }

    [Test]
    public void A_small_file_claiming_30000_square_is_refused_at_validation_before_it_is_decoded()
    {
        long live = Tensor.LiveCount;

        var r = Validate(LoadAndSave("bomb.png"), budget: 4L << 30);

        Assert.That(r.Error?.Type, Is.EqualTo(ValidationErrorTypes.MemoryBudgetExceeded), r.Error?.Message);
        Assert.That(r.Error!.Message, Does.Contain("Node 1 (LoadImage)").Or.Contain("Node 9 (SaveImage)"));
        var load = r.NodeErrors["1"].Errors.Single();
        Assert.That(load.Type, Is.EqualTo(ValidationErrorTypes.MemoryBudgetExceeded));
        // The decoded image alone is 30000² × 3 float32 = 10.8 GB.
        Assert.That(load.ExtraInfo!["estimated_bytes"]!.GetValue<long>(), Is.GreaterThan(30000L * 30000 * 3 * 4));
        Assert.That(load.ExtraInfo!["limit_bytes"]!.GetValue<long>(), Is.EqualTo(4L << 30));
        Assert.That(Tensor.LiveCount, Is.EqualTo(live), "nothing was decoded");
    }

    [Test]
    public void A_normal_image_and_its_save_fit()
    {
        Assert.That(Validate(LoadAndSave("photo.png"), budget: 64L << 20).IsValid, Is.True);
    }

    [Test]
    public void ImageScale_to_16384_square_is_refused_where_the_image_it_scales_fits()
    {
        var r = Validate(LoadAndSave("photo.png", scaleTo: 16384), budget: 8L << 30);

        Assert.That(r.Error?.Type, Is.EqualTo(ValidationErrorTypes.MemoryBudgetExceeded));
        Assert.That(r.NodeErrors.Keys, Does.Contain("2").And.Not.Contain("1"));
        Assert.That(Validate(LoadAndSave("photo.png", scaleTo: 1024), budget: 8L << 30).IsValid, Is.True);
    }

    [Test]
    public void LoadImage_describes_its_image_and_mask_and_VAEEncode_takes_the_shape_from_it()
    {
        var loaded = Estimate("LoadImage", new() { ["image"] = "photo.png" }, _ => null);
        Assert.That(loaded.Outputs, Is.EqualTo(new object[] { new ImageShape(1, 48, 64), new MaskShape(1, 64, 64) }), "no alpha: a 64×64 mask, as ComfyUI");
        Assert.That(loaded.PeakBytes, Is.GreaterThan(new ImageShape(1, 48, 64).Bytes));

        var image = (ImageShape)loaded.Outputs![0]!;
        var encoded = Estimate("VAEEncode", new(), input => input == "pixels" ? image : null);
        Assert.That(encoded.PeakBytes, Is.EqualTo(MemoryCosts.VaeEncode(image)));
        Assert.That(encoded.Outputs!.Single(), Is.EqualTo(new LatentShape(1, 4, 6, 8)));

        var mask = Estimate("LoadImageMask", new() { ["image"] = "photo.png", ["channel"] = "red" }, _ => null);
        Assert.That(mask.Outputs!.Single(), Is.EqualTo(new MaskShape(1, 48, 64)));
    }

    [Test]
    public void SaveImage_and_PreviewImage_count_the_batch_and_the_encode_buffers()
    {
        var one = new ImageShape(1, 1024, 1024);
        var eight = one with { Batch = 8 };
        foreach (var type in new[] { "SaveImage", "PreviewImage" })
        {
            long Peak(ImageShape images) => Estimate(type, new(), input => input == "images" ? images : null).PeakBytes;
            Assert.That(Peak(one), Is.GreaterThan(2 * one.Bytes), $"{type}: the image and its encode buffers");
            // Images are encoded one at a time: a bigger batch adds only its own bytes.
            Assert.That(Peak(eight) - Peak(one), Is.EqualTo(eight.Bytes - one.Bytes), type);
        }
        Assert.That(Estimate("SaveImage", new(), _ => null).PeakBytes, Is.Zero, "nothing known upstream: nothing counted");
    }

    [Test]
    public void A_dataset_folder_counts_every_image_it_keeps_loaded_repeats_included()
    {
        string one = Path.Combine(_env.Data.Input, "set1"), four = Path.Combine(_env.Data.Input, "set4"), bomb = Path.Combine(_env.Data.Input, "setbomb");
        foreach (var dir in new[] { one, Path.Combine(four, "3_more"), bomb }) Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(_env.Data.Input, "photo.png"), Path.Combine(one, "a.png"));
        File.Copy(Path.Combine(_env.Data.Input, "photo.png"), Path.Combine(four, "a.png"));
        File.Copy(Path.Combine(_env.Data.Input, "photo.png"), Path.Combine(four, "3_more", "b.png")); // kohya: 3 repeats
        File.Copy(Path.Combine(_env.Data.Input, "bomb.png"), Path.Combine(bomb, "a.png"));
        long Peak(string folder) => Estimate("LoadImageTextDataSetFromFolder", new() { ["folder"] = folder }, _ => null).PeakBytes;

        long held = new ImageShape(1, 48, 64).Bytes + new MaskShape(1, 64, 64).Bytes;
        Assert.That(Peak("set4") - Peak("set1"), Is.EqualTo(3 * held), "three more images held, one decode at a time");
        Assert.That(Peak("setbomb"), Is.GreaterThan(30000L * 30000 * 3 * 4), "from the header, unread");
    }

    [Test]
    public void An_unreadable_or_missing_file_is_left_to_validation_and_the_decoder()
    {
        File.WriteAllText(Path.Combine(_env.Data.Input, "notes.png"), "not an image");
        Assert.That(Estimate("LoadImage", new() { ["image"] = "notes.png" }, _ => null), Is.EqualTo(MemoryEstimate.Unknown));
        Assert.That(Estimate("LoadImage", new() { ["image"] = "../escape.png" }, _ => null), Is.EqualTo(MemoryEstimate.Unknown));
        Assert.That(Estimate("LoadImage", new() { ["image"] = "missing.png" }, _ => null), Is.EqualTo(MemoryEstimate.Unknown));
    }
}
