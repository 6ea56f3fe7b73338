using System.Runtime.InteropServices;
using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>Copies between tensors and host memory.</summary>
public sealed partial class Tensor
{
    /// <summary>The elements in row-major order, copied to the host. T must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (DTypeExtensions.Of<T>() != DType)
            throw new InvalidOperationException($"tensor is {DType.TorchName()}, not {typeof(T).Name}; convert with To(DType) first");
        var result = new T[NumElements];
        CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>Copies the raw element bytes (row-major) into <paramref name="destination"/>, which must fit exactly.</summary>
    public unsafe void CopyTo(Span<byte> destination)
    {
        fixed (byte* p = destination)
            NativeStatus.Check(NativeMethods.cg_tensor_to_buffer(this, (nint)p, destination.Length));
    }

    /// <summary>The raw element bytes, row-major.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[NumElements * DType.ElementSize()];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public double Item()
    {
        NativeStatus.Check(NativeMethods.cg_tensor_item_double(this, out double v));
        return v;
    }

    public float ItemFloat() => (float)Item();
}
