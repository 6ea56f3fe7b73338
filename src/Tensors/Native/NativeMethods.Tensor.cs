using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_tensor.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_tensor_free(nint t);
    [LibraryImport(Lib)] internal static partial int cg_tensor_info(Tensor t, out int dtype, out int device_type, out int device_index, long* shape, int cap, out int ndim);
    [LibraryImport(Lib)] internal static partial int cg_tensor_requires_grad(Tensor t, out int @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_is_contiguous(Tensor t, out int @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_from_buffer(void* data, long nbytes, int dtype, ReadOnlySpan<long> shape, int ndim, int device_type, int device_index, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_to_buffer(Tensor t, nint data, long nbytes);
    [LibraryImport(Lib)] internal static partial int cg_tensor_item_double(Tensor t, out double @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_empty(ReadOnlySpan<long> shape, int ndim, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_zeros(ReadOnlySpan<long> shape, int ndim, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_ones(ReadOnlySpan<long> shape, int ndim, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_full(ReadOnlySpan<long> shape, int ndim, double value, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_arange(double start, double end, double step, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_linspace(double start, double end, long steps, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_zeros_like(Tensor t, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_ones_like(Tensor t, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_full_like(Tensor t, double v, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_to(Tensor t, int dtype, int device_type, int device_index, int non_blocking, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_clone(Tensor t, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_detach(Tensor t, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_alias(Tensor t, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_copy_(Tensor dst, Tensor src);
    [LibraryImport(Lib)] internal static partial int cg_tensor_data_ptr(Tensor t, out nint @out);
}
