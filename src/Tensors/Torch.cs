using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>Entry point of the tensor API: creation functions and scopes, named as in PyTorch.</summary>
public static partial class Torch
{
    /// <summary>Starts a scope that disposes every tensor created on this thread until it ends.</summary>
    public static DisposeScope NewScope() => new();

    public static Tensor Empty(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_tensor_empty(shape, shape.Length, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    public static Tensor Zeros(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_tensor_zeros(shape, shape.Length, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    public static Tensor Ones(ReadOnlySpan<long> shape, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_tensor_ones(shape, shape.Length, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    public static Tensor Full(ReadOnlySpan<long> shape, double value, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_tensor_full(shape, shape.Length, value, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    /// <summary>Values start, start+step, … below end, as torch.arange.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_tensor_arange(start, end, step, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    public static Tensor Linspace(double start, double end, long steps, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_tensor_linspace(start, end, steps, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    public static Tensor ZerosLike(Tensor t) => Tensor.FromNative(NativeMethods.cg_tensor_zeros_like(t, out nint r), r);
    public static Tensor OnesLike(Tensor t) => Tensor.FromNative(NativeMethods.cg_tensor_ones_like(t, out nint r), r);
    public static Tensor FullLike(Tensor t, double value) => Tensor.FromNative(NativeMethods.cg_tensor_full_like(t, value, out nint r), r);

    /// <summary>A tensor holding a copy of <paramref name="data"/>, with the dtype of T.</summary>
    public static unsafe Tensor FromArray<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape, Device device = default) where T : unmanaged
    {
        fixed (T* p = data)
            return FromBytes(new ReadOnlySpan<byte>(p, data.Length * sizeof(T)), DTypeExtensions.Of<T>(), shape, device);
    }

    /// <summary>A 1-D tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray<T>(T[] data, Device device = default) where T : unmanaged =>
        FromArray<T>(data, [data.Length], device);

    /// <summary>A tensor from raw little-endian element bytes (e.g. a safetensors span).</summary>
    public static unsafe Tensor FromBytes(ReadOnlySpan<byte> bytes, DType dtype, ReadOnlySpan<long> shape, Device device = default)
    {
        fixed (byte* p = bytes)
            return Tensor.FromNative(NativeMethods.cg_tensor_from_buffer(p, bytes.Length, (int)dtype, shape, shape.Length,
                (int)device.Type, device.NativeIndex, out nint r), r);
    }

    /// <summary>A scalar (0-dimensional) tensor.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Device device = default) => Full([], value, dtype, device);

    public static Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0) => Join(tensors, dim, stack: false);
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0) => Join(tensors, dim, stack: true);

    private static Tensor Join(IReadOnlyList<Tensor> tensors, long dim, bool stack)
    {
        if (tensors.Count == 0) throw new ArgumentException("needs at least one tensor", nameof(tensors));
        // Raw handles go in an array, so keep every tensor referenced (and undisposed) until the call returns.
        Span<nint> handles = tensors.Count <= 64 ? stackalloc nint[tensors.Count] : new nint[tensors.Count];
        bool[] added = new bool[tensors.Count];
        try
        {
            for (int i = 0; i < tensors.Count; i++)
            {
                tensors[i].DangerousAddRef(ref added[i]);
                handles[i] = tensors[i].DangerousGetHandle();
            }
            int status = stack
                ? NativeMethods.cg_tensor_stack(handles, handles.Length, dim, out nint r)
                : NativeMethods.cg_tensor_cat(handles, handles.Length, dim, out r);
            return Tensor.FromNative(status, r);
        }
        finally
        {
            for (int i = 0; i < tensors.Count; i++)
                if (added[i]) tensors[i].DangerousRelease();
        }
    }
}
