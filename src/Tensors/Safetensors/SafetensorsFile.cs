using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// An open safetensors file: the header is read and validated in <see cref="Open"/>, tensor bytes are
/// read on demand with positional reads. Not memory-mapped on purpose: a mapped file truncated under
/// us raises SIGBUS and kills the process (scenario C10); a short read here is an exception instead.
/// Reads are thread-safe (positional, no shared cursor).
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly SafeFileHandle _handle;

    private SafetensorsFile(string path, SafeFileHandle handle, SafetensorsHeader header)
    {
        Path = path;
        _handle = handle;
        Header = header;
    }

    public string Path { get; }

    public SafetensorsHeader Header { get; }

    /// <inheritdoc cref="SafetensorsHeader.Metadata"/>
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <inheritdoc cref="SafetensorsHeader.Entries"/>
    public IReadOnlyList<SafetensorsEntry> Entries => Header.Entries;

    /// <inheritdoc cref="SafetensorsHeader.HeaderBytes"/>
    public long HeaderBytes => Header.HeaderBytes;

    /// <inheritdoc cref="SafetensorsHeader.TotalDataBytes"/>
    public long TotalDataBytes => Header.TotalDataBytes;

    public bool Contains(string name) => Header.Contains(name);

    public bool TryGet(string name, [MaybeNullWhen(false)] out SafetensorsEntry entry) => Header.TryGet(name, out entry);

    public SafetensorsEntry this[string name] => Header[name];

    /// <summary>
    /// Opens and fully validates a file. Pickle checkpoints are refused by extension and by their
    /// first bytes without being parsed.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">The file is not a valid safetensors file.</exception>
    public static SafetensorsFile Open(string path, SafetensorsLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        limits ??= SafetensorsLimits.Default;
        PickleFormat.ThrowIfPickleExtension(path);

        // FileShare.Delete: a model directory may be updated by rename while we hold the old file.
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            Span<byte> start = stackalloc byte[HeaderPrefix.SniffBytes];
            int got = ReadAtMost(handle, start, 0);
            long headerLength = HeaderPrefix.ReadHeaderLength(start[..got], fileLength, limits);
            var json = GC.AllocateUninitializedArray<byte>((int)headerLength);
            if (ReadAtMost(handle, json, SafetensorsHeader.LengthPrefixBytes) != json.Length)
                throw new SafetensorsFormatException(SafetensorsFormatError.HeaderLengthBeyondFile,
                    "the file ended inside the header (it shrank while being opened)");
            return new SafetensorsFile(path, handle, SafetensorsHeader.FromJson(json, fileLength, limits));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A new array holding the tensor's bytes (little-endian, as stored).</summary>
    /// <exception cref="NotSupportedException">The tensor is larger than an array can be; use <see cref="ReadSlice"/>.</exception>
    public byte[] ReadBytes(string name)
    {
        var entry = this[name];
        if (entry.ByteLength > Array.MaxLength)
            throw new NotSupportedException(
                $"tensor {SafetensorsFormatException.Quote(name)} has {entry.ByteLength} bytes, more than one array holds; read it in slices");
        var bytes = GC.AllocateUninitializedArray<byte>((int)entry.ByteLength);
        ReadRange(entry, 0, bytes);
        return bytes;
    }

    /// <summary>Reads the whole tensor into <paramref name="destination"/>, whose length must equal its byte length.</summary>
    public void ReadInto(string name, Span<byte> destination)
    {
        var entry = this[name];
        if (destination.Length != entry.ByteLength)
            throw new ArgumentException(
                $"tensor {SafetensorsFormatException.Quote(name)} has {entry.ByteLength} bytes; the destination holds {destination.Length}",
                nameof(destination));
        ReadRange(entry, 0, destination);
    }

    /// <summary>
    /// Reads <c>destination.Length</c> bytes of the tensor starting at byte <paramref name="offset"/>
    /// within it; for tensors over 2 GiB, or to stream into native memory in chunks.
    /// </summary>
    public void ReadSlice(string name, long offset, Span<byte> destination)
    {
        var entry = this[name];
        if (offset < 0 || offset > entry.ByteLength || destination.Length > entry.ByteLength - offset)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"bytes [{offset}, {offset + destination.Length}) are outside tensor {SafetensorsFormatException.Quote(name)} of {entry.ByteLength} bytes");
        ReadRange(entry, offset, destination);
    }

    public void Dispose() => _handle.Dispose();

    private void ReadRange(SafetensorsEntry entry, long offset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        long position = Header.DataStart + entry.DataOffset + offset;
        if (ReadAtMost(_handle, destination, position) != destination.Length)
            throw new SafetensorsFormatException(SafetensorsFormatError.TruncatedData,
                $"file not fully covered: tensor {SafetensorsFormatException.Quote(entry.Name)} was cut short; the file was truncated after it was opened",
                entry.Name);
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="position"/>; returns fewer bytes only at end of file.</summary>
    private static int ReadAtMost(SafeFileHandle handle, Span<byte> buffer, long position)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = RandomAccess.Read(handle, buffer[total..], position + total);
            if (read == 0)
                break;
            total += read;
        }
        return total;
    }
}
