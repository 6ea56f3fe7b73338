namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// Exact decoding of the two fp8 formats to float32, through 256-entry tables. Needed at load time
/// because libtorch 1.13 has no fp8 dtype. Definitions: "FP8 Formats for Deep Learning"
/// (Micikevicius et al., 2022), as implemented by PyTorch's float8_e4m3fn and float8_e5m2.
/// </summary>
public static class Float8
{
    private static readonly float[] E4M3FnTable = BuildTable(DecodeE4M3FnBits);
    private static readonly float[] E5M2Table = BuildTable(DecodeE5M2Bits);

    /// <summary>Largest finite e4m3fn value (S.1111.110).</summary>
    public const float E4M3FnMax = 448f;

    /// <summary>Largest finite e5m2 value (S.11110.11).</summary>
    public const float E5M2Max = 57344f;

    public static float DecodeE4M3Fn(byte value) => E4M3FnTable[value];

    public static float DecodeE5M2(byte value) => E5M2Table[value];

    /// <summary>Decodes <c>src.Length</c> fp8 values of <paramref name="dtype"/> into the start of <paramref name="dst"/>.</summary>
    public static void DecodeToFloat32(ReadOnlySpan<byte> src, Span<float> dst, SafetensorsDType dtype)
    {
        ReadOnlySpan<float> table = dtype switch
        {
            SafetensorsDType.F8E4M3 => E4M3FnTable,
            SafetensorsDType.F8E5M2 => E5M2Table,
            _ => throw new ArgumentException($"{dtype} is not an fp8 dtype", nameof(dtype)),
        };
        if (dst.Length < src.Length)
            throw new ArgumentException($"destination holds {dst.Length} floats, {src.Length} needed", nameof(dst));
        for (int i = 0; i < src.Length; i++)
            dst[i] = table[src[i]];
    }

    private static float[] BuildTable(Func<int, float> decode)
    {
        var table = new float[256];
        for (int bits = 0; bits < 256; bits++)
            table[bits] = decode(bits);
        return table;
    }

    // S.EEEE.MMM, bias 7. Exponent 15 is an ordinary binade except mantissa 111, the only NaN
    // ("fn": finite, no infinities). Exponent 0 is subnormal: M/8 · 2^(1-7).
    private static float DecodeE4M3FnBits(int bits)
    {
        int exponent = (bits >> 3) & 0xF, mantissa = bits & 0x7;
        float magnitude =
            exponent == 0xF && mantissa == 0x7 ? float.NaN
            : exponent == 0 ? MathF.ScaleB(mantissa, 1 - 7 - 3)
            : MathF.ScaleB(8 + mantissa, exponent - 7 - 3);
        return (bits & 0x80) != 0 ? -magnitude : magnitude;
    }

    // S.EEEEE.MM, bias 15, IEEE-754 rules: exponent 31 is ±inf (M = 0) or NaN; exponent 0 is
    // subnormal: M/4 · 2^(1-15). Bit for bit, the high byte of a binary16.
    private static float DecodeE5M2Bits(int bits)
    {
        int exponent = (bits >> 2) & 0x1F, mantissa = bits & 0x3;
        float magnitude =
            exponent == 0x1F ? (mantissa == 0 ? float.PositiveInfinity : float.NaN)
            : exponent == 0 ? MathF.ScaleB(mantissa, 1 - 15 - 2)
            : MathF.ScaleB(4 + mantissa, exponent - 15 - 2);
        return (bits & 0x80) != 0 ? -magnitude : magnitude;
    }
}
