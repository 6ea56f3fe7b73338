using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Diffusion.Tests.Imaging;

/// <summary>
/// Decoding hand-built PNGs (written here, not by our writer): every colour type and row filter, interlacing,
/// and refusals — a huge header before anything is inflated, truncation, garbage.
/// </summary>
public sealed class PngDecodeTests
{
    [Test]
    public void Every_row_filter_is_undone()
    {
        // 5 rows of RGB, one per filter type (None, Sub, Up, Average, Paeth), as encoders like browsers' canvas pick them.
        const int width = 4, height = 5, bpp = 3;
        var rows = Enumerable.Range(0, height).Select(y => Enumerable.Range(0, width * bpp).Select(x => (byte)(x * 31 + y * 57 + x * y)).ToArray()).ToArray();
        var raw = new List<byte>();
        for (var y = 0; y < height; y++)
        {
            raw.Add((byte)y);
            for (var x = 0; x < width * bpp; x++)
            {
                int a = x >= bpp ? rows[y][x - bpp] : 0, b = y > 0 ? rows[y - 1][x] : 0, c = x >= bpp && y > 0 ? rows[y - 1][x - bpp] : 0;
                var predictor = y switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => Paeth(a, b, c) };
                raw.Add((byte)(rows[y][x] - predictor));
            }
        }

        var decoded = ImageDecoder.Decode(Png(width, height, 8, 2, raw.ToArray()));

        Assert.That((decoded.Width, decoded.Height, decoded.Channels), Is.EqualTo((width, height, 3)));
        Assert.That(decoded.Pixels, Is.EqualTo(rows.SelectMany(r => r).ToArray()));
    }

    [Test]
    public void Grey_alpha_palette_and_sixteen_bit_images_become_8_bit_rgb_or_rgba()
    {
        Assert.That(Pixels(Png(1, 1, 8, 0, [0, 9])), Is.EqualTo(new byte[] { 9, 9, 9 }));
        Assert.That(Pixels(Png(1, 1, 8, 4, [0, 9, 70])), Is.EqualTo(new byte[] { 9, 9, 9, 70 }));
        Assert.That(Pixels(Png(1, 1, 16, 6, [0, 1, 2, 3, 4, 5, 6, 7, 8])), Is.EqualTo(new byte[] { 1, 3, 5, 7 }));
        var palette = Png(2, 1, 8, 3, [0, 1, 0], ("PLTE", [10, 20, 30, 40, 50, 60]), ("tRNS", [128]));
        Assert.That(Pixels(palette), Is.EqualTo(new byte[] { 40, 50, 60, 255, 10, 20, 30, 128 }));
        Assert.That(ImageDecoder.Decode(Png(1, 1, 8, 0, [0, 9])).ToRgba().Pixels, Is.EqualTo(new byte[] { 9, 9, 9, 255 }));
    }

    [Test]
    public void Interlaced_images_decode()
    {
        // Adam7 on a 1x1 image: only pass 1 holds the pixel.
        Assert.That(Pixels(Png(1, 1, 8, 0, [0, 77], interlace: 1)), Is.EqualTo(new byte[] { 77, 77, 77 }));
    }

    [Test]
    public void A_huge_header_is_refused_before_decoding_and_truncation_and_garbage_are_errors()
    {
        var bomb = Png(100_000, 100_000, 8, 6, []); // 40 GB of pixels claimed by a few bytes
        var refused = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bomb))!;
        Assert.That(refused.Message, Does.Contain("100000x100000"));
        var small = Png(64, 64, 8, 0, Enumerable.Range(0, 64).SelectMany(_ => new byte[65]).ToArray());
        Assert.That(ImageDecoder.Decode(small).Width, Is.EqualTo(64));
        Assert.That(Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(small, maxPixels: 64 * 64 - 1))!.Message,
            Does.Contain("more than 4095 pixels"));

        var whole = PngWriter.Encode(new DecodedImage(16, 16, 4, Enumerable.Range(0, 1024).Select(i => (byte)(i * 37)).ToArray()));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(whole[..(whole.Length - 20)]));
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("GIF89a..."u8.ToArray()));
    }

    [Test]
    public void Exif_orientation_is_applied_as_comfyui_exif_transpose_does()
    {
        // A 4x2 JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6), written by libvips itself.
        var pixels = new byte[4 * 2 * 3];
        for (var x = 0; x < 2; x++) pixels[x * 3] = 255; // the two left pixels of the top row are red
        using var plain = NetVips.Image.NewFromMemory(pixels, 4, 2, 3, NetVips.Enums.BandFormat.Uchar);
        using var image = plain.Mutate(m => m.Set(NetVips.GValue.GIntType, "orientation", 6));
        var decoded = ImageDecoder.Decode(image.WriteToBuffer(".jpg[Q=100]"));

        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((2, 4)), "displayed upright: portrait");
        Assert.That(decoded.Pixels[3 * 1], Is.GreaterThan(200), "the red corner is now top right");
        Assert.That(decoded.Pixels[0], Is.LessThan(60), "the top left is the old bottom left");
    }

    private static byte[] Pixels(byte[] png) => ImageDecoder.Decode(png).Pixels;

    private static byte[] Png(int width, int height, byte depth, byte colour, byte[] raw, params (string Type, byte[] Body)[] extra) =>
        Png(width, height, depth, colour, raw, 0, extra);

    private static byte[] Png(int width, int height, byte depth, byte colour, byte[] raw, byte interlace, params (string Type, byte[] Body)[] extra)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = depth;
        header[9] = colour;
        header[12] = interlace;
        Chunk(png, "IHDR", header);
        foreach (var (type, body) in extra) Chunk(png, type, body);
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] body)
    {
        var typed = Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        png.Write(word);
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typed));
        png.Write(word);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
