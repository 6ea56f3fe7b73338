using System.Buffers.Binary;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// Recognises PyTorch pickle checkpoints so they are refused before anything reads them: unpickling
/// runs arbitrary code (reliability.md §4, scenario C9). Nothing here parses pickle.
/// </summary>
internal static class PickleFormat
{
    private static readonly string[] PickleExtensions = [".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pickle"];

    public static void ThrowIfPickleExtension(string path)
    {
        var extension = Path.GetExtension(path);
        if (PickleExtensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
            throw Refusal($"'{extension.ToLowerInvariant()}' files are pickle checkpoints");
    }

    /// <summary>
    /// True when the file starts like a torch zip archive (<c>PK\x03\x04</c>) or a pickle stream
    /// (PROTO opcode <c>\x80</c> with protocol 2–5) and cannot be read as safetensors instead.
    /// </summary>
    public static bool LooksLikePickle(ReadOnlySpan<byte> start, long fileLength)
    {
        bool zip = start.StartsWith("PK\x03\x04"u8);
        bool pickle = start.Length >= 2 && start[0] == 0x80 && start[1] is >= 2 and <= 5;
        if (!zip && !pickle)
            return false;

        // A genuine safetensors file whose header is 640 bytes long begins 80 02 00 …: it is one
        // only if its JSON starts right after the length and fits in the file.
        if (start.Length > SafetensorsHeader.LengthPrefixBytes && start[SafetensorsHeader.LengthPrefixBytes] == (byte)'{')
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(start);
            if (headerLength <= (ulong)(fileLength - SafetensorsHeader.LengthPrefixBytes))
                return false;
        }
        return true;
    }

    public static SafetensorsFormatException Refusal(string what) =>
        new(SafetensorsFormatError.PickleFormat,
            $"{what}, which can run arbitrary code when loaded; pickle formats are not supported: convert the file to .safetensors");
}
