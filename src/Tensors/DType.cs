namespace CharacterGen.Tensors;

/// <summary>Element types. The numeric values are the shim's own dtype codes (native/src/cg_runtime.cpp).</summary>
public enum DType
{
    Float32 = 0,
    Float16 = 1,
    BFloat16 = 2,
    Float64 = 3,
    Int64 = 4,
    Int32 = 5,
    Int16 = 6,
    Int8 = 7,
    UInt8 = 8,
    Bool = 9,
}

public static class DTypeExtensions
{
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 or DType.Int16 => 2,
        DType.Float64 or DType.Int64 => 8,
        DType.Int8 or DType.UInt8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Float64;

    /// <summary>PyTorch's name for the dtype, e.g. "float32".</summary>
    public static string TorchName(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float16 => "float16",
        DType.BFloat16 => "bfloat16",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        DType.Int32 => "int32",
        DType.Int16 => "int16",
        DType.Int8 => "int8",
        DType.UInt8 => "uint8",
        DType.Bool => "bool",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype that holds elements of the CLR type T.</summary>
    public static DType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(double) ? DType.Float64
        : typeof(T) == typeof(Half) ? DType.Float16
        : typeof(T) == typeof(long) ? DType.Int64
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(short) ? DType.Int16
        : typeof(T) == typeof(sbyte) ? DType.Int8
        : typeof(T) == typeof(byte) ? DType.UInt8
        : typeof(T) == typeof(bool) ? DType.Bool
        : throw new NotSupportedException($"no tensor dtype holds {typeof(T).Name}");
}
