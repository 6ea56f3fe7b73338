using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_shape.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_tensor_reshape(Tensor a, ReadOnlySpan<long> shape, int ndim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_permute(Tensor a, ReadOnlySpan<long> order, int ndim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_transpose(Tensor a, long d0, long d1, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_narrow(Tensor a, long dim, long start, long length, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_slice(Tensor a, long dim, long start, long end, long step, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_select(Tensor a, long dim, long index, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_expand(Tensor a, ReadOnlySpan<long> shape, int ndim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_repeat(Tensor a, ReadOnlySpan<long> repeats, int ndim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_contiguous(Tensor a, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_squeeze(Tensor a, long dim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_unsqueeze(Tensor a, long dim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_flatten(Tensor a, long start, long end, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_flip(Tensor a, ReadOnlySpan<long> dims, int ndim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_index_select(Tensor a, long dim, Tensor index, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_gather(Tensor a, long dim, Tensor index, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_triu(Tensor a, long diagonal, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_tril(Tensor a, long diagonal, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_cat(ReadOnlySpan<nint> items, int n, long dim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_stack(ReadOnlySpan<nint> items, int n, long dim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_chunk(Tensor a, long chunks, long dim, nint* @out, out int count);
    [LibraryImport(Lib)] internal static partial int cg_tensor_split_sizes(Tensor a, ReadOnlySpan<long> sizes, int n, long dim, nint* @out);
}
