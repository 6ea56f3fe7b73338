using System.Buffers.Binary;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// Checks the 8-byte little-endian header length against the limits and the file size, so that
/// no buffer is ever sized from an unchecked number (scenario C2).
/// </summary>
internal static class HeaderPrefix
{
    /// <summary>How many leading bytes <see cref="ReadHeaderLength"/> wants: the length and the first JSON byte.</summary>
    public const int SniffBytes = SafetensorsHeader.LengthPrefixBytes + 1;

    /// <param name="start">The first <see cref="SniffBytes"/> bytes of the file, or all of it if shorter.</param>
    /// <returns>The header length N, with 8 + N ≤ <paramref name="fileLength"/>.</returns>
    public static long ReadHeaderLength(ReadOnlySpan<byte> start, long fileLength, SafetensorsLimits limits)
    {
        if (PickleFormat.LooksLikePickle(start, fileLength))
            throw PickleFormat.Refusal("the file starts like a PyTorch pickle/zip checkpoint");
        if (fileLength == 0)
            throw new SafetensorsFormatException(SafetensorsFormatError.FileTooSmall, "file is empty");
        if (fileLength < SafetensorsHeader.LengthPrefixBytes)
            throw new SafetensorsFormatException(SafetensorsFormatError.FileTooSmall,
                $"file is {fileLength} bytes, shorter than the 8-byte header length");

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(start);
        if (headerLength > (ulong)limits.MaxHeaderBytes)
            throw new SafetensorsFormatException(SafetensorsFormatError.HeaderTooLarge,
                $"header length {headerLength} exceeds the limit of {limits.MaxHeaderBytes} bytes");
        long room = fileLength - SafetensorsHeader.LengthPrefixBytes;
        if (headerLength > (ulong)room)
            throw new SafetensorsFormatException(SafetensorsFormatError.HeaderLengthBeyondFile,
                $"header length {headerLength} runs past the end of the file ({room} bytes follow the length)");
        return (long)headerLength;
    }
}
