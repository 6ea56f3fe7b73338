namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// One validated tensor of a safetensors header. <see cref="DataOffset"/> is relative to the data
/// buffer (the reference's <c>data_offsets[0]</c>), not to the start of the file.
/// </summary>
public sealed record SafetensorsEntry(
    string Name,
    SafetensorsDType DType,
    long[] Shape,
    long DataOffset,
    long ByteLength,
    long ElementCount)
{
    /// <summary>Exclusive end of the data, relative to the data buffer (<c>data_offsets[1]</c>).</summary>
    public long DataEnd => DataOffset + ByteLength;

    public override string ToString() =>
        $"{Name}: {DType.ToHeaderName()}[{string.Join(", ", Shape)}] @ {DataOffset}+{ByteLength}";
}
