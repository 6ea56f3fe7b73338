using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Image;

/// <summary>LoadImage, LoadImageMask, ImageScale and ImageScaleBy.</summary>
public sealed class ImageNodeTests
{
    private NodeTestEnvironment _env = null!;

    [OneTimeSetUp]
    public void SetUp() => _env = NodeTestEnvironment.Create(withCheckpoint: false);

    [OneTimeTearDown]
    public void TearDown() => _env.Dispose();

    /// <summary>An RGBA PNG whose alpha is 255 on the left half and 0 on the right.</summary>
    private string WriteRgba(string name, int width = 8, int height = 4)
    {
        var pixels = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 4;
                pixels[i] = (byte)(x * 30);
                pixels[i + 1] = (byte)(y * 60);
                pixels[i + 2] = 200;
                pixels[i + 3] = x < width / 2 ? (byte)255 : (byte)0;
            }
        string path = Path.Combine(_env.Data.Input, name);
        File.WriteAllBytes(path, PngWriter.Encode(new DecodedImage(width, height, 4, pixels)));
        return path;
    }

    private static LiteralInputs Literals(params (string, object?)[] values) =>
        new(values.ToDictionary(v => v.Item1, v => v.Item2), new ServiceBag());

    [Test]
    public void LoadImage_of_an_RGBA_png_gives_rgb_and_mask_one_minus_alpha()
    {
        WriteRgba("rgba.png");
        var output = _env.Run("LoadImage", ("image", "rgba.png"));
        try
        {
            var image = (Tensor)output.Values[0]!;
            var mask = (Tensor)output.Values[1]!;
            Assert.That(image.Shape, Is.EqualTo(new long[] { 1, 4, 8, 3 }));
            Assert.That(mask.Shape, Is.EqualTo(new long[] { 1, 4, 8 }));
            Assert.That(mask.Narrow(2, 0, 4).Max().Item(), Is.EqualTo(0), "opaque → 0");
            Assert.That(mask.Narrow(2, 4, 4).Min().Item(), Is.EqualTo(1), "transparent → 1");
            Assert.That(image.Select(3, 2).Min().Item(), Is.EqualTo(200 / 255.0).Within(1e-6));
            Assert.That(image.Select(0, 0).Select(0, 0).Select(0, 3).Select(0, 0).Item(), Is.EqualTo(90 / 255.0).Within(1e-6));
        }
        finally { NodeTestEnvironment.DisposeAll(output); }
    }

    [Test]
    public void LoadImage_lists_the_input_folder_and_validates_names_inside_it_only()
    {
        WriteRgba("listed.png");
        File.WriteAllText(Path.Combine(_env.Data.Input, "notes.txt"), "not an image");
        var def = _env.Node("LoadImage");
        Assert.That(def.FindInput("image")!.CurrentOptions(), Does.Contain("listed.png").And.Not.Contain("notes.txt"));
        Assert.That(def.FindInput("image")!.ImageUpload, Is.True);
        Assert.That(def.SelfValidatedInputs, Does.Contain("image"));

        Assert.That(def.Validate!(Literals(("image", "listed.png"))), Is.Null);
        Assert.That(def.Validate!(Literals(("image", "missing.png"))), Does.Contain("Invalid image file"));
        File.WriteAllText(Path.Combine(_env.Root, "secret.png"), "outside");
        Assert.That(def.Validate!(Literals(("image", "../secret.png"))), Does.Contain("Invalid image file"));
        Assert.That(def.Validate!(Literals(("image", "/etc/passwd"))), Does.Contain("Invalid image file"));
        Assert.Throws<CharacterGen.Nodes.Files.PathEscapeException>(() => _env.Run("LoadImage", ("image", "../secret.png")));
    }

    [Test]
    public void LoadImage_accepts_annotated_output_names()
    {
        File.WriteAllBytes(Path.Combine(_env.Data.Output, "made.png"), PngWriter.Encode(new DecodedImage(2, 2, 3, new byte[12])));
        var def = _env.Node("LoadImage");
        Assert.That(def.Validate!(Literals(("image", "made.png [output]"))), Is.Null);
        var output = _env.Run("LoadImage", ("image", "made.png [output]"));
        Assert.That(((Tensor)output.Values[1]!).Shape, Is.EqualTo(new long[] { 1, 64, 64 }), "no alpha → a 64×64 zero mask");
        NodeTestEnvironment.DisposeAll(output);
    }

    [Test]
    public void LoadImage_reads_an_uploaded_asset_by_its_id()
    {
        byte[] png = PngWriter.Encode(new DecodedImage(3, 2, 3, new byte[18]));
        string id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(png));
        Directory.CreateDirectory(Path.Combine(_env.Data.Assets, id[..2]));
        File.WriteAllBytes(Path.Combine(_env.Data.Assets, id[..2], id), png); // the asset store's layout
        var def = _env.Node("LoadImage");
        Assert.That(def.Validate!(Literals(("image", $"{id} [asset]"))), Is.Null);
        var output = _env.Run("LoadImage", ("image", $"{id} [asset]"));
        Assert.That(((Tensor)output.Values[0]!).Shape, Is.EqualTo(new long[] { 1, 2, 3, 3 }));
        NodeTestEnvironment.DisposeAll(output);

        Assert.That(def.Validate!(Literals(("image", $"{new string('0', 64)} [asset]"))), Does.Contain("Invalid image file"), "no such asset");
        Assert.That(def.Validate!(Literals(("image", "../../etc/passwd [asset]"))), Does.Contain("not an asset id"));
        Assert.That(def.Validate!(Literals(("image", $"{id.ToUpperInvariant()} [asset]"))), Does.Contain("not an asset id"));
    }

    [Test]
    public void LoadImage_fingerprint_is_the_files_sha256()
    {
        string path = WriteRgba("hashed.png");
        var def = _env.Node("LoadImage");
        string? before = def.Fingerprint!(Literals(("image", "hashed.png")));
        Assert.That(before, Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)))));
        WriteRgba("hashed.png", width: 6);
        Assert.That(def.Fingerprint!(Literals(("image", "hashed.png"))), Is.Not.EqualTo(before));
    }

    [TestCase("alpha", 0.0, 1.0)]
    [TestCase("red", 0.0, 210 / 255.0)]
    [TestCase("blue", 200 / 255.0, 200 / 255.0)]
    public void LoadImageMask_reads_one_channel(string channel, double min, double max)
    {
        WriteRgba("mask.png");
        using var mask = _env.Run<Tensor>("LoadImageMask", ("image", "mask.png"), ("channel", channel));
        Assert.That(mask.Shape, Is.EqualTo(new long[] { 1, 4, 8 }));
        Assert.That(mask.Min().Item(), Is.EqualTo(min).Within(1e-6));
        Assert.That(mask.Max().Item(), Is.EqualTo(max).Within(1e-6));
    }

    [Test]
    public void ImageScale_with_center_crop_cuts_the_longer_side_before_resizing()
    {
        using var scope = Torch.NewScope();
        // 4 rows × 8 columns, value = column index: a centre crop to 1:1 keeps columns 2..5.
        Tensor image = Torch.Arange(0, 8).Reshape(1, 1, 8, 1).Expand(1, 4, 8, 3).Contiguous();
        using var scaled = _env.Run<Tensor>("ImageScale", ("image", image), ("upscale_method", "nearest-exact"),
            ("width", 4L), ("height", 4L), ("crop", "center"));
        Assert.That(scaled.Shape, Is.EqualTo(new long[] { 1, 4, 4, 3 }));
        Assert.That(scaled.Select(0, 0).Select(0, 0).Select(1, 0).ToArray<float>(), Is.EqualTo(new float[] { 2, 3, 4, 5 }));

        using var squashed = _env.Run<Tensor>("ImageScale", ("image", image), ("upscale_method", "nearest-exact"),
            ("width", 4L), ("height", 4L), ("crop", "disabled"));
        Assert.That(squashed.Select(0, 0).Select(0, 0).Select(1, 0).ToArray<float>(), Is.EqualTo(new float[] { 1, 3, 5, 7 }), "nearest-exact samples at (x + 0.5)·scale");
    }

    [TestCase(0L, 8L, 8L, 16L)]  // width from the aspect ratio
    [TestCase(32L, 0L, 16L, 32L)]
    [TestCase(0L, 0L, 4L, 8L)]   // unchanged
    public void ImageScale_sizes(long width, long height, long expectedH, long expectedW)
    {
        using var scope = Torch.NewScope();
        Tensor image = Torch.Rand([1, 4, 8, 3], new Generator(3));
        using var scaled = _env.Run<Tensor>("ImageScale", ("image", image), ("upscale_method", "bilinear"),
            ("width", width), ("height", height), ("crop", "disabled"));
        Assert.That(scaled.Shape, Is.EqualTo(new long[] { 1, expectedH, expectedW, 3 }));
    }

    [TestCase("nearest-exact")]
    [TestCase("bilinear")]
    [TestCase("area")]
    [TestCase("bicubic")]
    [TestCase("lanczos")]
    public void ImageScaleBy_rounds_sizes_and_keeps_a_flat_image_flat(string method)
    {
        using var scope = Torch.NewScope();
        Tensor image = Torch.Full([2, 10, 14, 3], 0.4f);
        using var scaled = _env.Run<Tensor>("ImageScaleBy", ("image", image), ("upscale_method", method), ("scale_by", 1.25));
        Assert.That(scaled.Shape, Is.EqualTo(new long[] { 2, 12, 18, 3 })); // round(12.5) = 12 (half to even), round(17.5) = 18
        double expected = method == "lanczos" ? 102 / 255.0 : 0.4; // lanczos goes through 8-bit pixels
        Assert.That(scaled.Min().Item(), Is.EqualTo(expected).Within(1e-5));
        Assert.That(scaled.Max().Item(), Is.EqualTo(expected).Within(1e-5));
    }

    // Expected values from Pillow 9.4: Image.fromarray(pattern).resize((w, h), Image.LANCZOS), pattern[i] = (37·i + 11) mod 256.
    [TestCase(13, 9, 7, 5, 3, "6e67bf849672f00a159336a9573c21d8910c083974e3a6467978f2e9318d68da", new byte[] { 80, 126, 157, 165 })]
    [TestCase(13, 9, 20, 14, 3, "b29ad72970a86756004c9cf30f22f463c9f3ced35571bb31e28380773b3a1803", new byte[] { 0, 10, 49, 39 })]
    [TestCase(16, 16, 16, 5, 3, "dd35e3c3d85aa11b8bb75ef8a3b8d97306234e43e5e38791f3b59c3ce30fba7a", new byte[] { 181, 17, 58, 109 })]
    [TestCase(4, 1, 2, 1, 1, "8ccb083883638fa3f0f36cd7d9b4ae2eaf337624fd71bcf8621e806ac4a0a0a2", new byte[] { 31, 102 })]
    [TestCase(9, 7, 9, 12, 3, "1ea65b58dda2e17ed54d763c6d660978cac4f359ed3e07f9a1aeb55b4e5cbe34", new byte[] { 0, 59, 87, 124 })]
    public void Lanczos_is_bit_exact_with_pillow(int width, int height, int outWidth, int outHeight, int channels, string sha256, byte[] head)
    {
        byte[] pattern = Enumerable.Range(0, width * height * channels).Select(i => (byte)((i * 37 + 11) % 256)).ToArray();
        byte[] result = Lanczos.Resize(pattern, width, height, channels, outWidth, outHeight);
        Assert.That(result.Take(head.Length), Is.EqualTo(head));
        Assert.That(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(result)), Is.EqualTo(sha256));
    }
}
