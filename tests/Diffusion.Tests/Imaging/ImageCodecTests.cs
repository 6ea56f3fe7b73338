using CharacterGen.Diffusion.Imaging;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Imaging;

/// <summary>Decoding through libvips, our PNG writer with text chunks, and ComfyUI's IMAGE/MASK conventions.</summary>
public sealed class ImageCodecTests
{
    private static DecodedImage Gradient(int w, int h, int channels)
    {
        var pixels = new byte[w * h * channels];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                    pixels[(y * w + x) * channels + c] = (byte)((x * 7 + y * 13 + c * 60) % 256);
        return new DecodedImage(w, h, channels, pixels);
    }

    [TestCase(3)]
    [TestCase(4)]
    [TestCase(1)]
    public void PngRoundTripIsLossless(int channels)
    {
        DecodedImage original = Gradient(37, 23, channels);
        DecodedImage back = ImageDecoder.Decode(PngWriter.Encode(original));
        if (channels == 1)
        {
            // grey decodes to RGB with equal channels
            Assert.That(back.Channels, Is.EqualTo(3));
            Assert.That(Enumerable.Range(0, 37 * 23).Select(i => back.Pixels[i * 3 + 1]), Is.EqualTo(original.Pixels));
        }
        else Assert.That(back, Is.EqualTo(original).Using<DecodedImage>((a, b) => a.Width == b.Width && a.Height == b.Height
            && a.Channels == b.Channels && a.Pixels.AsSpan().SequenceEqual(b.Pixels)));
    }

    [Test]
    public void TextChunksCarryPromptAndWorkflowIncludingNonLatin1()
    {
        string prompt = "{\"3\":{\"class_type\":\"KSampler\"}}";
        string workflow = "{\"title\":\"猫 — café\"}";
        byte[] png = PngWriter.Encode(Gradient(4, 4, 3), [new("prompt", prompt), new("workflow", workflow)]);
        var text = PngText.Read(png);
        Assert.That(text["prompt"], Is.EqualTo(prompt));
        Assert.That(text["workflow"], Is.EqualTo(workflow));
        Assert.That(ImageDecoder.Decode(png).Width, Is.EqualTo(4), "libvips accepts our chunks and CRCs");
    }

    [Test]
    public void JpegAndWebPDecode()
    {
        DecodedImage original = Gradient(32, 16, 3);
        foreach (string suffix in new[] { ".jpg", ".webp" })
        {
            DecodedImage back = ImageDecoder.Decode(ImageDecoder.EncodeWithVips(original, suffix));
            Assert.That((back.Width, back.Height, back.Channels), Is.EqualTo((32, 16, 3)), suffix);
        }
    }

    [Test]
    public void GarbageAndEmptyInputAreRefusedWithAMessage()
    {
        Assert.That(Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode([]))!.Message, Does.Contain("empty"));
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("definitely not an image"u8.ToArray()));
        Assert.That(e!.Message, Does.StartWith("not a readable image"));
        byte[] truncated = PngWriter.Encode(Gradient(64, 64, 3))[..100];
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(truncated));
    }

    [Test]
    public void LoadImageConventionsAlphaBecomesInvertedMask()
    {
        using var scope = Torch.NewScope();
        var rgba = new DecodedImage(2, 1, 4, [255, 0, 0, 255, 0, 0, 255, 0]);
        var (image, mask) = ImageTensors.ToImageAndMask(rgba);
        Assert.That(image.Shape, Is.EqualTo(new long[] { 1, 1, 2, 3 }));
        Assert.That(image.ToArray<float>(), Is.EqualTo(new[] { 1f, 0, 0, 0, 0, 1f }));
        Assert.That(mask.ToArray<float>(), Is.EqualTo(new[] { 0f, 1f }), "opaque → 0 (keep), transparent → 1 (change)");
        var (_, noAlpha) = ImageTensors.ToImageAndMask(new DecodedImage(2, 1, 3, new byte[6]));
        Assert.That(noAlpha.Shape, Is.EqualTo(new long[] { 1, 64, 64 }));
        Assert.That(ImageTensors.ChannelMask(rgba, "red").ToArray<float>(), Is.EqualTo(new[] { 1f, 0f }));
    }

    [Test]
    public void SavingTruncatesLikeNumpyAndClipsOutOfRange()
    {
        using var scope = Torch.NewScope();
        Tensor image = Torch.FromArray([0.999f, 0.5f, -0.2f, 1.7f, 0.00393f, 0.2f], [1, 1, 2, 3]);
        DecodedImage px = ImageTensors.ToPixels(image);
        // 254.745 → 254, 127.5 → 127, −51 → 0, 433.5 → 255, 1.002 → 1, 51.0 → 50 or 51 by float rounding of 0.2·255
        Assert.That(px.Pixels[..5], Is.EqualTo(new byte[] { 254, 127, 0, 255, 1 }));
        Assert.That((px.Width, px.Height, px.Channels), Is.EqualTo((2, 1, 3)));
    }
}
