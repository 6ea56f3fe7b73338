using CharacterGen.Tensors.Native;
using static CharacterGen.Tensors.Native.NativeMethods;

namespace CharacterGen.Tensors;

/// <summary>Views, shape changes and conversions.</summary>
public sealed partial class Tensor
{
    public Tensor Reshape(params long[] shape) => R(cg_tensor_reshape(this, shape, shape.Length, out nint r), r);
    public Tensor Permute(params long[] order) => R(cg_tensor_permute(this, order, order.Length, out nint r), r);
    public Tensor Transpose(long dim0, long dim1) => R(cg_tensor_transpose(this, dim0, dim1, out nint r), r);
    public Tensor Narrow(long dim, long start, long length) => R(cg_tensor_narrow(this, dim, start, length, out nint r), r);
    /// <summary>Elements start..end (exclusive) with a step along one dim; end may exceed the size, as in Python slicing.</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1) => R(cg_tensor_slice(this, dim, start, end, step, out nint r), r);
    public Tensor Select(long dim, long index) => R(cg_tensor_select(this, dim, index, out nint r), r);
    public Tensor Expand(params long[] shape) => R(cg_tensor_expand(this, shape, shape.Length, out nint r), r);
    public Tensor Repeat(params long[] repeats) => R(cg_tensor_repeat(this, repeats, repeats.Length, out nint r), r);
    public Tensor Contiguous() => R(cg_tensor_contiguous(this, out nint r), r);
    public Tensor Squeeze(long dim) => R(cg_tensor_squeeze(this, dim, out nint r), r);
    public Tensor Unsqueeze(long dim) => R(cg_tensor_unsqueeze(this, dim, out nint r), r);
    public Tensor Flatten(long startDim = 0, long endDim = -1) => R(cg_tensor_flatten(this, startDim, endDim, out nint r), r);
    public Tensor Flip(params long[] dims) => R(cg_tensor_flip(this, dims, dims.Length, out nint r), r);
    public Tensor IndexSelect(long dim, Tensor index) => R(cg_tensor_index_select(this, dim, index, out nint r), r);
    public Tensor Gather(long dim, Tensor index) => R(cg_tensor_gather(this, dim, index, out nint r), r);
    public Tensor Triu(long diagonal = 0) => R(cg_tensor_triu(this, diagonal, out nint r), r);
    public Tensor Tril(long diagonal = 0) => R(cg_tensor_tril(this, diagonal, out nint r), r);

    /// <summary>Splits into at most <paramref name="chunks"/> views along <paramref name="dim"/>, as torch.chunk.</summary>
    public unsafe Tensor[] Chunk(int chunks, long dim = 0)
    {
        if (chunks < 1) throw new ArgumentOutOfRangeException(nameof(chunks), "must be at least 1");
        nint* handles = stackalloc nint[chunks];
        NativeStatus.Check(cg_tensor_chunk(this, chunks, dim, handles, out int count));
        var parts = new Tensor[count];
        for (int i = 0; i < count; i++) parts[i] = FromNative(NativeStatus.Ok, handles[i]);
        return parts;
    }

    /// <summary>Splits into pieces of the given sizes along <paramref name="dim"/>.</summary>
    public unsafe Tensor[] Split(long[] sizes, long dim = 0)
    {
        nint* handles = stackalloc nint[sizes.Length];
        NativeStatus.Check(cg_tensor_split_sizes(this, sizes, sizes.Length, dim, handles));
        var parts = new Tensor[sizes.Length];
        for (int i = 0; i < sizes.Length; i++) parts[i] = FromNative(NativeStatus.Ok, handles[i]);
        return parts;
    }

    public Tensor To(DType dtype) => R(cg_tensor_to(this, (int)dtype, -1, 0, 0, out nint r), r);
    public Tensor To(Device device, bool nonBlocking = false) =>
        R(cg_tensor_to(this, -1, (int)device.Type, device.NativeIndex, nonBlocking ? 1 : 0, out nint r), r);
    public Tensor To(Device device, DType dtype) => R(cg_tensor_to(this, (int)dtype, (int)device.Type, device.NativeIndex, 0, out nint r), r);

    public Tensor Clone() => R(cg_tensor_clone(this, out nint r), r);
    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor Detach() => R(cg_tensor_detach(this, out nint r), r);
    /// <summary>A second handle to the same tensor (shares storage and autograd identity), with its own lifetime.</summary>
    public Tensor Alias() => R(cg_tensor_alias(this, out nint r), r);
}
