using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Compression;
using System.Text;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// Writes 8-bit PNGs with text chunks, so saved images carry the `prompt` and `workflow` JSON ComfyUI reads back.
/// Text goes in tEXt when it is Latin-1 (as PIL does), else in an uncompressed UTF-8 iTXt chunk.
/// </summary>
public static class PngWriter
{
    internal static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Encode(DecodedImage image, IEnumerable<KeyValuePair<string, string>>? text = null,
        CompressionLevel level = CompressionLevel.Fastest)
    {
        byte colourType = image.Channels switch
        {
            1 => 0,
            3 => 2,
            4 => 6,
            _ => throw new ArgumentException($"PNG needs 1, 3 or 4 channels, not {image.Channels}"),
        };
        if ((long)image.Width * image.Height * image.Channels != image.Pixels.Length)
            throw new ArgumentException("pixel buffer does not match width × height × channels");

        using var png = new MemoryStream();
        png.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], image.Height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = colourType;
        WriteChunk(png, "IHDR", ihdr);
        foreach (var (key, value) in text ?? []) WriteText(png, key, value);
        WriteChunk(png, "IDAT", CompressScanlines(image, level));
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    // Every row uses the Sub filter: cheap, and it compresses photographs well.
    private static byte[] CompressScanlines(DecodedImage image, CompressionLevel level)
    {
        int stride = image.Width * image.Channels, bpp = image.Channels;
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, level, leaveOpen: true))
        {
            var row = new byte[stride + 1];
            row[0] = 1;
            for (int y = 0; y < image.Height; y++)
            {
                ReadOnlySpan<byte> src = image.Pixels.AsSpan(y * stride, stride);
                for (int x = 0; x < stride; x++) row[x + 1] = (byte)(src[x] - (x >= bpp ? src[x - bpp] : 0));
                z.Write(row);
            }
        }
        return compressed.ToArray();
    }

    private static void WriteText(Stream png, string key, string value)
    {
        if (key.Length is 0 or > 79 || key.Any(c => c > 0xFF || c == 0))
            throw new ArgumentException($"PNG text keyword must be 1-79 Latin-1 characters: '{key}'");
        byte[] keyword = Encoding.Latin1.GetBytes(key);
        bool latin1 = value.All(c => c <= 0xFF && c != 0);
        using var body = new MemoryStream();
        body.Write(keyword);
        body.WriteByte(0);
        if (latin1)
        {
            body.Write(Encoding.Latin1.GetBytes(value));
            WriteChunk(png, "tEXt", body.ToArray());
        }
        else
        {
            body.Write([0, 0, 0, 0]); // not compressed, method 0, no language tag, no translated keyword
            body.Write(Encoding.UTF8.GetBytes(value));
            WriteChunk(png, "iTXt", body.ToArray());
        }
    }

    private static void WriteChunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        png.Write(header);
        png.Write(data);
        var crc = new Crc32(); // over the chunk type and data, as the PNG spec asks
        crc.Append(header[4..]);
        crc.Append(data);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc.GetCurrentHashAsUInt32());
        png.Write(crcBytes);
    }
}
