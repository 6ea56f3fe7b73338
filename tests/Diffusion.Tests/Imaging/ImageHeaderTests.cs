using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Diffusion.Tests.Imaging;

/// <summary>The header read that memory estimates use agrees with what the decoder returns, without decoding.</summary>
public sealed class ImageHeaderTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("cg-header-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertAgrees(string path, int bytesPerSample)
    {
        var header = ImageDecoder.ReadHeader(path);
        var decoded = ImageDecoder.Decode(File.ReadAllBytes(path));
        Assert.That((header.Width, header.Height, header.Channels), Is.EqualTo((decoded.Width, decoded.Height, decoded.Channels)), path);
        Assert.That(header.BytesPerSample, Is.EqualTo(bytesPerSample), path);
    }

    [Test]
    public void Grey_rgb_rgba_and_16_bit_files_report_the_decoded_size_and_channels()
    {
        AssertAgrees(Write("grey.png", PngWriter.Encode(new DecodedImage(5, 3, 1, new byte[15]))), 1);
        AssertAgrees(Write("rgb.png", PngWriter.Encode(new DecodedImage(5, 3, 3, new byte[45]))), 1);
        AssertAgrees(Write("rgba.png", PngWriter.Encode(new DecodedImage(5, 3, 4, new byte[60]))), 1);
        using var plain = NetVips.Image.NewFromMemory(new byte[5 * 3 * 3], 5, 3, 3, NetVips.Enums.BandFormat.Uchar);
        using var deep = plain.Cast(NetVips.Enums.BandFormat.Ushort).Copy(interpretation: NetVips.Enums.Interpretation.Rgb16);
        AssertAgrees(Write("deep.png", deep.WriteToBuffer(".png")), 2);
    }

    [Test]
    public void An_exif_rotation_by_90_degrees_swaps_the_sides_as_decoding_does()
    {
        using var plain = NetVips.Image.NewFromMemory(new byte[4 * 2 * 3], 4, 2, 3, NetVips.Enums.BandFormat.Uchar);
        using var turned = plain.Mutate(m => m.Set(NetVips.GValue.GIntType, "orientation", 6));
        string path = Write("turned.jpg", turned.WriteToBuffer(".jpg"));

        Assert.That((ImageDecoder.ReadHeader(path).Width, ImageDecoder.ReadHeader(path).Height), Is.EqualTo((2, 4)));
        AssertAgrees(path, 1);
    }

    [Test]
    public void A_file_that_is_not_an_image_is_an_image_decode_exception()
    {
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.ReadHeader(Write("notes.png", "not an image"u8.ToArray())));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.ReadHeader(Path.Combine(_dir, "missing.png")));
    }
}
