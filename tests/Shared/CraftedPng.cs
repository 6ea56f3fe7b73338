using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace CharacterGen.Tests.Shared;

/// <summary>
/// PNG files for the memory-budget tests: a header that claims any size over image data that stops after one row,
/// so the file is a few hundred bytes while decoding it would need width × height pixels (a decompression bomb as
/// an attacker would upload it). Only the header is valid; a decoder that reads on fails.
/// </summary>
internal static class CraftedPng
{
    public static byte[] ClaimingSize(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per sample
        header[9] = 2; // RGB
        Chunk(png, "IHDR", header);
        using (var row = new MemoryStream())
        {
            using (var z = new ZLibStream(row, CompressionLevel.Optimal, leaveOpen: true)) z.Write(new byte[1 + 3 * width]);
            Chunk(png, "IDAT", row.ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typeAndData));
        png.Write(word);
    }
}
