namespace CharacterGen.Tensors.Safetensors;

/// <summary>Element types a safetensors header may name (the reference's <c>Dtype</c>, byte-sized ones).</summary>
public enum SafetensorsDType
{
    Bool,
    U8,
    I8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F16,
    BF16,
    F32,
    F64,
    /// <summary>fp8 e4m3fn: bias 7, no infinities, S.1111.111 is NaN (header name <c>F8_E4M3</c>).</summary>
    F8E4M3,
    /// <summary>fp8 e5m2: bias 15, IEEE-like with infinities and NaNs (header name <c>F8_E5M2</c>).</summary>
    F8E5M2,
}

/// <summary>Element sizes and the header spellings of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Every dtype this reader understands, in declaration order.</summary>
    public static IReadOnlyList<SafetensorsDType> All { get; } = Enum.GetValues<SafetensorsDType>();

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8 => 1,
        SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>The string a header uses for this dtype (<c>"F16"</c>, <c>"F8_E4M3"</c>, …).</summary>
    public static string ToHeaderName(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        _ when Enum.IsDefined(dtype) => dtype.ToString(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>Parses a header dtype string; case-sensitive, as the reference is.</summary>
    public static bool TryParse(string? headerName, out SafetensorsDType dtype)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToHeaderName(), headerName, StringComparison.Ordinal))
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>Parses a header dtype string, refusing unknown ones with <see cref="SafetensorsFormatError.UnknownDType"/>.</summary>
    public static SafetensorsDType Parse(string headerName) =>
        TryParse(headerName, out var dtype)
            ? dtype
            : throw new SafetensorsFormatException(SafetensorsFormatError.UnknownDType, $"unknown dtype {SafetensorsFormatException.Quote(headerName)}");
}
