namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// The reference's <c>validate</c>: sizes by checked arithmetic, tensors contiguous from 0 with no
/// gap or overlap, and the data buffer covered exactly. This is what bounds a load by the file size.
/// </summary>
internal static class TensorLayout
{
    /// <summary>Element count and byte size of a shape, or null when either overflows 64 bits.</summary>
    public static (long ElementCount, long ByteLength)? TrySize(SafetensorsDType dtype, ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            // Fold left like the reference, so [2^62, 2^62, 0] overflows before reaching the zero.
            if (dim < 0 || (dim != 0 && count > long.MaxValue / dim))
                return null;
            count *= dim;
        }
        int size = dtype.ElementSize();
        if (count > long.MaxValue / size)
            return null;
        return (count, count * size);
    }

    /// <summary>Validates the declared tensors against a data buffer of <paramref name="dataLength"/> bytes.</summary>
    /// <returns>The entries ordered by data offset.</returns>
    public static SafetensorsEntry[] Validate(IReadOnlyList<DeclaredTensor> tensors, long dataLength)
    {
        var entries = new SafetensorsEntry[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (TrySize(t.DType, t.Shape) is not var (count, bytes))
                throw Fail(SafetensorsFormatError.SizeOverflow,
                    $"tensor {Quote(t.Name)}: shape {Format(t.Shape)} of {t.DType.ToHeaderName()} overflows 64-bit sizes", t.Name);
            if (t.End < t.Begin)
                throw Fail(SafetensorsFormatError.InvalidOffsets,
                    $"tensor {Quote(t.Name)}: data_offsets end {t.End} is before begin {t.Begin}", t.Name);
            if (t.End - t.Begin != bytes)
                throw Fail(SafetensorsFormatError.SizeMismatch,
                    $"tensor {Quote(t.Name)}: data_offsets span {t.End - t.Begin} bytes but shape {Format(t.Shape)} of {t.DType.ToHeaderName()} needs {bytes}", t.Name);
            entries[i] = new SafetensorsEntry(t.Name, t.DType, t.Shape, t.Begin, bytes, count);
        }

        // Stable sort by [begin, end), as the reference orders them before its contiguity walk.
        var ordered = entries.OrderBy(e => e.DataOffset).ThenBy(e => e.DataEnd).ToArray();
        long expectedBegin = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in ordered)
        {
            if (entry.DataOffset > expectedBegin)
                throw Fail(SafetensorsFormatError.InvalidOffsets,
                    $"tensor {Quote(entry.Name)}: gap of {entry.DataOffset - expectedBegin} bytes before its data (begins at {entry.DataOffset}, previous data ends at {expectedBegin})", entry.Name);
            if (entry.DataOffset < expectedBegin)
                throw Fail(SafetensorsFormatError.InvalidOffsets,
                    $"tensor {Quote(entry.Name)}: data overlaps tensor {Quote(previous!.Name)} (begins at {entry.DataOffset}, which ends at {expectedBegin})", entry.Name);
            if (entry.DataEnd > dataLength)
                throw Fail(SafetensorsFormatError.TruncatedData,
                    $"file not fully covered: tensor {Quote(entry.Name)} ends at data byte {entry.DataEnd} but the file holds only {dataLength} data bytes (truncated?)", entry.Name);
            expectedBegin = entry.DataEnd;
            previous = entry;
        }
        if (expectedBegin != dataLength)
            throw Fail(SafetensorsFormatError.TrailingBytes,
                $"file not fully covered: {dataLength - expectedBegin} trailing bytes after the last tensor's data");
        return ordered;
    }

    public static string Format(ReadOnlySpan<long> shape) => $"[{string.Join(", ", shape.ToArray())}]";

    private static string Quote(string text) => SafetensorsFormatException.Quote(text);

    private static SafetensorsFormatException Fail(SafetensorsFormatError reason, string message, string? name = null) =>
        new(reason, message, name);
}
