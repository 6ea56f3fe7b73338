using System.Buffers.Binary;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>Widens the 16-bit float formats, as stored (little-endian bytes), to float32. Both are exact.</summary>
public static class Float16
{
    /// <summary>IEEE binary16 (<see cref="SafetensorsDType.F16"/>, <see cref="Half"/>) to float32.</summary>
    public static void HalfToFloat32(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int count = CheckLengths(src, dst);
        for (int i = 0; i < count; i++)
            dst[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
    }

    /// <summary>bfloat16 (<see cref="SafetensorsDType.BF16"/>) to float32: its bits are a float32's high 16 bits.</summary>
    public static void BFloat16ToFloat32(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int count = CheckLengths(src, dst);
        for (int i = 0; i < count; i++)
            dst[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
    }

    private static int CheckLengths(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (src.Length % 2 != 0)
            throw new ArgumentException($"{src.Length} bytes is not a whole number of 16-bit values", nameof(src));
        int count = src.Length / 2;
        if (dst.Length < count)
            throw new ArgumentException($"destination holds {dst.Length} floats, {count} needed", nameof(dst));
        return count;
    }
}
