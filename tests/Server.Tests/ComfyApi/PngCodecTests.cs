using System.Buffers.Binary;
using System.IO.Compression;
using CharacterGen.Server.ComfyApi;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>The mask route's PNG reader: every colour type, every row filter, and refusals before inflating.</summary>
public sealed class PngCodecTests
{
    [Test]
    public void Rgba_round_trips_with_text()
    {
        var pixels = Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)(i * 7)).ToArray();
        var image = new RgbaImage(3, 2, pixels, [("prompt", "{}"), ("workflow", "x")]);

        var decoded = PngCodec.Decode(PngCodec.Encode(image));

        Assert.That(decoded.Pixels, Is.EqualTo(pixels));
        Assert.That(decoded.Text, Is.EqualTo(image.Text));
    }

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

        var decoded = PngCodec.Decode(Png(width, height, 8, 2, raw.ToArray()));

        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            Assert.That(decoded.Pixels.AsSpan((y * width + x) * 4, 4).ToArray(),
                Is.EqualTo(new[] { rows[y][x * 3], rows[y][x * 3 + 1], rows[y][x * 3 + 2], (byte)255 }), $"pixel {x},{y}");
    }

    [Test]
    public void Grey_alpha_palette_and_sixteen_bit_images_become_rgba()
    {
        Assert.That(PngCodec.Decode(Png(1, 1, 8, 0, [0, 9])).Pixels, Is.EqualTo(new byte[] { 9, 9, 9, 255 }));
        Assert.That(PngCodec.Decode(Png(1, 1, 8, 4, [0, 9, 70])).Pixels, Is.EqualTo(new byte[] { 9, 9, 9, 70 }));
        Assert.That(PngCodec.Decode(Png(1, 1, 16, 6, [0, 1, 2, 3, 4, 5, 6, 7, 8])).Pixels, Is.EqualTo(new byte[] { 1, 3, 5, 7 }));
        var palette = Png(2, 1, 8, 3, [0, 1, 0], ("PLTE", [10, 20, 30, 40, 50, 60]), ("tRNS", [128]));
        Assert.That(PngCodec.Decode(palette).Pixels, Is.EqualTo(new byte[] { 40, 50, 60, 255, 10, 20, 30, 128 }));
    }

    [Test]
    public void Bombs_interlacing_and_truncation_are_refused()
    {
        var bomb = Png(100_000, 100_000, 8, 6, []);
        Assert.Throws<InvalidDataException>(() => PngCodec.Decode(bomb));
        var interlaced = Png(1, 1, 8, 0, [0, 1], interlace: 1);
        Assert.Throws<InvalidDataException>(() => PngCodec.Decode(interlaced));
        var whole = PngCodec.Encode(new RgbaImage(4, 4, new byte[64], []));
        Assert.Throws<InvalidDataException>(() => PngCodec.Decode(whole[..(whole.Length - 20)]));
        Assert.Throws<InvalidDataException>(() => PngCodec.Decode("GIF89a..."u8.ToArray()));
    }

    private static byte[] Png(int width, int height, byte depth, byte colour, byte[] raw, params (string Type, byte[] Body)[] extra) =>
        Png(width, height, depth, colour, raw, 0, extra);

    private static byte[] Png(int width, int height, byte depth, byte colour, byte[] raw, byte interlace, params (string Type, byte[] Body)[] extra)
    {
        var png = new MemoryStream();
        png.Write(PngCodec.Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = depth;
        header[9] = colour;
        header[12] = interlace;
        PngCodec.WriteChunk(png, "IHDR", header);
        foreach (var (type, body) in extra) PngCodec.WriteChunk(png, type, body);
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        PngCodec.WriteChunk(png, "IDAT", compressed.ToArray());
        PngCodec.WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
