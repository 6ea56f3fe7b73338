using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace CharacterGen.Server.ComfyApi;

/// <summary>An 8-bit RGBA image with the PNG's tEXt chunks (keyword, text) in file order.</summary>
internal sealed record RgbaImage(int Width, int Height, byte[] Pixels, IReadOnlyList<(string Keyword, string Text)> Text);

/// <summary>
/// A small PNG reader/writer for the mask route (the server has no image library yet): non-interlaced PNGs of every
/// colour type at 8 or 16 bits are read as RGBA8, with the image size checked before anything is inflated.
/// </summary>
internal static class PngCodec
{
    public const int MaxSide = 16384;
    public const long MaxPixels = 16L * 1024 * 1024; // 4096², bounds the memory one mask request can take
    internal static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsPng(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <exception cref="InvalidDataException">Not a PNG we can read, or larger than the limits.</exception>
    public static RgbaImage Decode(byte[] data)
    {
        if (!IsPng(data)) throw new InvalidDataException("not a PNG file");
        int width = 0, height = 0, depth = 0, colour = 0;
        byte[]? palette = null, transparency = null;
        var idat = new MemoryStream();
        var text = new List<(string, string)>();
        for (var at = Signature.Length; at + 12 <= data.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(at));
            if (length < 0 || at + 12L + length > data.Length) throw new InvalidDataException("truncated PNG chunk");
            var type = Encoding.ASCII.GetString(data, at + 4, 4);
            var body = data.AsSpan(at + 8, length);
            at += 12 + length;
            switch (type)
            {
                case "IHDR":
                    if (length < 13) throw new InvalidDataException("bad IHDR");
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    depth = body[8];
                    colour = body[9];
                    if (width is < 1 or > MaxSide || height is < 1 or > MaxSide || (long)width * height > MaxPixels)
                        throw new InvalidDataException($"image size {width}x{height} is outside the limits");
                    if (depth is not (8 or 16) || colour is not (0 or 2 or 3 or 4 or 6) || (colour == 3 && depth != 8))
                        throw new InvalidDataException($"unsupported PNG format (bit depth {depth}, colour type {colour})");
                    if (body[12] != 0) throw new InvalidDataException("interlaced PNGs are not supported");
                    break;
                case "PLTE": palette = body.ToArray(); break;
                case "tRNS": transparency = body.ToArray(); break;
                case "IDAT": idat.Write(body); break;
                case "tEXt":
                    var zero = body.IndexOf((byte)0);
                    if (zero > 0) text.Add((Encoding.Latin1.GetString(body[..zero]), Encoding.Latin1.GetString(body[(zero + 1)..])));
                    break;
                case "IEND": at = data.Length; break;
            }
        }
        if (width == 0) throw new InvalidDataException("PNG without IHDR");

        var channels = colour switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var bytesPerPixel = channels * depth / 8;
        var stride = width * bytesPerPixel;
        var raw = new byte[(long)(stride + 1) * height];
        idat.Position = 0;
        using (var inflate = new ZLibStream(idat, CompressionMode.Decompress))
        {
            if (inflate.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) != raw.Length)
                throw new InvalidDataException("PNG image data is truncated");
        }
        Unfilter(raw, stride, height, bytesPerPixel);
        return new RgbaImage(width, height, ToRgba(raw, width, height, stride, colour, depth, palette, transparency), text);
    }

    public static byte[] Encode(RgbaImage image)
    {
        var stride = image.Width * 4;
        var raw = new byte[(stride + 1) * image.Height];
        for (var y = 0; y < image.Height; y++) image.Pixels.AsSpan(y * stride, stride).CopyTo(raw.AsSpan(y * (stride + 1) + 1));
        var compressed = new MemoryStream();
        using (var deflate = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(raw);

        var png = new MemoryStream();
        png.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), image.Height);
        header[8] = 8;
        header[9] = 6;
        WriteChunk(png, "IHDR", header);
        foreach (var (keyword, value) in image.Text)
            WriteChunk(png, "tEXt", [.. Encoding.Latin1.GetBytes(keyword), 0, .. Encoding.Latin1.GetBytes(value)]);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Unfilter(byte[] raw, int stride, int height, int bpp)
    {
        for (var y = 0; y < height; y++)
        {
            var row = y * (stride + 1);
            var filter = raw[row];
            var prior = row - (stride + 1) + 1; // the previous row's first byte (invalid for y = 0)
            for (var x = 0; x < stride; x++)
            {
                var i = row + 1 + x;
                int a = x >= bpp ? raw[i - bpp] : 0, b = y > 0 ? raw[prior + x] : 0, c = x >= bpp && y > 0 ? raw[prior + x - bpp] : 0;
                raw[i] = filter switch
                {
                    0 => raw[i],
                    1 => (byte)(raw[i] + a),
                    2 => (byte)(raw[i] + b),
                    3 => (byte)(raw[i] + ((a + b) >> 1)),
                    4 => (byte)(raw[i] + Paeth(a, b, c)),
                    _ => throw new InvalidDataException($"bad PNG filter {filter}"),
                };
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static byte[] ToRgba(byte[] raw, int width, int height, int stride, int colour, int depth, byte[]? palette, byte[]? trns)
    {
        var step = depth / 8; // 16-bit samples: keep the high byte
        var rgba = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            var row = y * (stride + 1) + 1;
            for (var x = 0; x < width; x++)
            {
                var o = (y * width + x) * 4;
                byte Sample(int channel, int channels) => raw[row + (x * channels + channel) * step];
                switch (colour)
                {
                    case 0:
                        rgba[o] = rgba[o + 1] = rgba[o + 2] = Sample(0, 1);
                        rgba[o + 3] = 255;
                        break;
                    case 2:
                        rgba[o] = Sample(0, 3); rgba[o + 1] = Sample(1, 3); rgba[o + 2] = Sample(2, 3);
                        rgba[o + 3] = 255;
                        break;
                    case 3:
                        var index = raw[row + x];
                        if (palette is null || index * 3 + 2 >= palette.Length) throw new InvalidDataException("palette index out of range");
                        rgba[o] = palette[index * 3]; rgba[o + 1] = palette[index * 3 + 1]; rgba[o + 2] = palette[index * 3 + 2];
                        rgba[o + 3] = trns is not null && index < trns.Length ? trns[index] : (byte)255;
                        break;
                    case 4:
                        rgba[o] = rgba[o + 1] = rgba[o + 2] = Sample(0, 2);
                        rgba[o + 3] = Sample(1, 2);
                        break;
                    default:
                        rgba[o] = Sample(0, 4); rgba[o + 1] = Sample(1, 4); rgba[o + 2] = Sample(2, 4); rgba[o + 3] = Sample(3, 4);
                        break;
                }
            }
        }
        return rgba;
    }

    internal static void WriteChunk(Stream png, string type, byte[] body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        png.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(Crc(0, typeBytes), body));
        png.Write(word);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        foreach (var b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }
}
