using System.Buffers.Binary;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// Writes safetensors files atomically: everything goes to a temp file in the target's directory,
/// which is flushed to disk and then renamed over the target. On any failure the temp file is
/// deleted and an existing target is left untouched (scenario C15).
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes tensors held in memory, their data contiguous in the given order.</summary>
    /// <exception cref="ArgumentException">A name is duplicated or reserved, a shape is invalid, or a tensor's data length differs from shape × element size.</exception>
    public static void Write(string path, IEnumerable<SafetensorsTensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var entries = Plan(list.Select(t => t?.Info!), metadata);
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Data.Length != entries[i].ByteLength)
                throw new ArgumentException(
                    $"tensor {SafetensorsFormatException.Quote(list[i].Name)}: {list[i].Data.Length} data bytes but shape {TensorLayout.Format(list[i].Shape)} of {list[i].DType.ToHeaderName()} needs {entries[i].ByteLength}",
                    nameof(tensors));
        }
        WriteAtomically(path, entries, metadata, (index, stream) => stream.Write(list[index].Data.Span));
    }

    /// <summary>
    /// Writes tensors whose bytes <paramref name="writeData"/> produces one at a time, so a large
    /// checkpoint need not be in memory at once. The callback must write exactly the tensor's
    /// byte length to the stream it is given (and must not keep it).
    /// </summary>
    public static void Write(
        string path,
        IEnumerable<SafetensorsTensorInfo> tensors,
        Action<SafetensorsTensorInfo, Stream> writeData,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(writeData);
        var list = tensors.ToList();
        var entries = Plan(list, metadata);
        WriteAtomically(path, entries, metadata, (index, stream) => writeData(list[index], stream));
    }

    /// <summary>Validates the tensors and assigns contiguous offsets, before anything touches the disk.</summary>
    private static List<SafetensorsEntry> Plan(IEnumerable<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
                if (key is null || value is null)
                    throw new ArgumentException("metadata keys and values must not be null", nameof(metadata));
        }
        var entries = new List<SafetensorsEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var tensor in tensors)
        {
            if (tensor is null || tensor.Name is null || tensor.Shape is null)
                throw new ArgumentException("tensors, their names and shapes must not be null", nameof(tensors));
            string name = SafetensorsFormatException.Quote(tensor.Name);
            if (tensor.Name == HeaderJsonParser.MetadataKey)
                throw new ArgumentException($"{name} is reserved for metadata and cannot name a tensor", nameof(tensors));
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"duplicate tensor name {name}", nameof(tensors));
            if (!Enum.IsDefined(tensor.DType))
                throw new ArgumentException($"tensor {name}: {tensor.DType} is not a safetensors dtype", nameof(tensors));
            if (tensor.Shape.Any(dim => dim < 0))
                throw new ArgumentException($"tensor {name}: negative dimension in shape {TensorLayout.Format(tensor.Shape)}", nameof(tensors));
            if (TensorLayout.TrySize(tensor.DType, tensor.Shape) is not var (count, bytes) || bytes > long.MaxValue - offset)
                throw new ArgumentException($"tensor {name}: shape {TensorLayout.Format(tensor.Shape)} overflows 64-bit sizes", nameof(tensors));
            entries.Add(new SafetensorsEntry(tensor.Name, tensor.DType, tensor.Shape.ToArray(), offset, bytes, count));
            offset += bytes;
        }
        return entries;
    }

    private static void WriteAtomically(
        string path,
        IReadOnlyList<SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string>? metadata,
        Action<int, Stream> writeData)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var header = HeaderJsonWriter.Write(entries, metadata);
        if (header.Length > SafetensorsLimits.ReferenceMaxHeaderBytes)
            throw new ArgumentException(
                $"the header would be {header.Length} bytes, above the format's limit of {SafetensorsLimits.ReferenceMaxHeaderBytes}");

        string target = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(target)!;
        string temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                Span<byte> prefix = stackalloc byte[SafetensorsHeader.LengthPrefixBytes];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                file.Write(prefix);
                file.Write(header);
                for (int i = 0; i < entries.Count; i++)
                {
                    var window = new TensorDataStream(file, entries[i]);
                    writeData(i, window);
                    window.EnsureComplete();
                }
                file.Flush(flushToDisk: true);
            }
            // rename(2): readers see either the old file or the complete new one, never a partial one.
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // The original failure matters more; a leftover dot-file is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
