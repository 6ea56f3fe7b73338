using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// A fully validated safetensors header: 8-byte little-endian length N, N bytes of JSON, then a data
/// buffer that the tensors cover exactly. Built only by parsing, so every instance is valid.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>Size of the little-endian u64 header length that starts every file.</summary>
    public const int LengthPrefixBytes = 8;

    private readonly Dictionary<string, SafetensorsEntry> _byName;

    private SafetensorsHeader(long headerBytes, long totalDataBytes, Dictionary<string, string> metadata, SafetensorsEntry[] entries)
    {
        HeaderBytes = headerBytes;
        TotalDataBytes = totalDataBytes;
        Metadata = new ReadOnlyDictionary<string, string>(metadata);
        Entries = Array.AsReadOnly(entries);
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors, ordered by data offset.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>N: the length of the JSON header, padding included, without the 8-byte prefix.</summary>
    public long HeaderBytes { get; }

    /// <summary>Where the data buffer starts in the file: 8 + N.</summary>
    public long DataStart => LengthPrefixBytes + HeaderBytes;

    /// <summary>Size of the data buffer, which is also the sum of the tensors' byte lengths.</summary>
    public long TotalDataBytes { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGet(string name, [MaybeNullWhen(false)] out SafetensorsEntry entry) => _byName.TryGetValue(name, out entry);

    public SafetensorsEntry this[string name] =>
        _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new KeyNotFoundException($"no tensor named {SafetensorsFormatException.Quote(name)}");

    /// <summary>Parses and validates a whole file image (prefix, header and data).</summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> file, SafetensorsLimits? limits = null)
    {
        limits ??= SafetensorsLimits.Default;
        long headerLength = HeaderPrefix.ReadHeaderLength(file[..Math.Min(file.Length, HeaderPrefix.SniffBytes)], file.Length, limits);
        return FromJson(file.Slice(LengthPrefixBytes, (int)headerLength), file.Length, limits);
    }

    /// <summary>
    /// Reads and validates the header of a seekable stream holding a whole file (from position 0),
    /// reading only the prefix and the JSON. The stream is left positioned at the data buffer.
    /// </summary>
    public static SafetensorsHeader Read(Stream stream, SafetensorsLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
            throw new ArgumentException("the stream must be readable and seekable", nameof(stream));
        limits ??= SafetensorsLimits.Default;
        long fileLength = stream.Length;
        stream.Position = 0;
        Span<byte> start = stackalloc byte[HeaderPrefix.SniffBytes];
        int got = stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        long headerLength = HeaderPrefix.ReadHeaderLength(start[..got], fileLength, limits);
        var json = GC.AllocateUninitializedArray<byte>((int)headerLength);
        stream.Position = LengthPrefixBytes;
        if (stream.ReadAtLeast(json, json.Length, throwOnEndOfStream: false) != json.Length)
            throw new SafetensorsFormatException(SafetensorsFormatError.HeaderLengthBeyondFile, "the stream ended inside the header");
        return FromJson(json, fileLength, limits);
    }

    /// <summary>Validates the JSON of a file whose total length is <paramref name="fileLength"/>.</summary>
    internal static SafetensorsHeader FromJson(ReadOnlySpan<byte> json, long fileLength, SafetensorsLimits limits)
    {
        var (metadata, declared) = HeaderJsonParser.Parse(json, limits);
        long dataLength = fileLength - LengthPrefixBytes - json.Length;
        var entries = TensorLayout.Validate(declared, dataLength);
        return new SafetensorsHeader(json.Length, dataLength, metadata, entries);
    }
}
