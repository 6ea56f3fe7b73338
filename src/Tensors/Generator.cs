using System.Runtime.InteropServices;
using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>
/// A CPU random generator seeded like torch.manual_seed(seed): the same seed draws the same numbers as PyTorch.
/// It keeps its position, so successive draws continue the sequence (as ComfyUI's ancestral noise sampler needs).
/// </summary>
public sealed class Generator : SafeHandle
{
    // Used by the interop marshaller only.
    public Generator() : base(IntPtr.Zero, ownsHandle: true) { }

    public Generator(ulong seed) : base(IntPtr.Zero, ownsHandle: true)
    {
        NativeStatus.Check(NativeMethods.cg_generator_new(seed, out nint h));
        SetHandle(h);
        Seed = seed;
    }

    public ulong Seed { get; private set; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => NativeMethods.cg_generator_free(handle) == NativeStatus.Ok;

    /// <summary>Restarts the sequence from a seed.</summary>
    public void Reseed(ulong seed)
    {
        NativeStatus.Check(NativeMethods.cg_generator_set_seed(this, seed));
        Seed = seed;
    }

    /// <summary>The full generator state, to resume a sequence exactly (e.g. in a training checkpoint).</summary>
    public byte[] GetState()
    {
        NativeStatus.Check(NativeMethods.cg_generator_get_state(this, out nint h));
        using Tensor state = Tensor.FromNative(NativeStatus.Ok, h).DetachFromScope();
        return state.ToBytes();
    }

    public void SetState(byte[] state)
    {
        using Tensor t = Torch.FromArray<byte>(state, [state.Length]).DetachFromScope();
        NativeStatus.Check(NativeMethods.cg_generator_set_state(this, t));
    }
}

public static partial class Torch
{
    /// <summary>Standard normal samples drawn on the CPU from <paramref name="generator"/>, then moved to the device.</summary>
    public static Tensor Randn(ReadOnlySpan<long> shape, Generator generator, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_random_randn(generator, shape, shape.Length, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    /// <summary>torch.manual_seed(seed); torch.randn(shape): a fresh generator per call.</summary>
    public static Tensor Randn(ReadOnlySpan<long> shape, ulong seed, DType dtype = DType.Float32, Device device = default)
    {
        using var generator = new Generator(seed);
        return Randn(shape, generator, dtype, device);
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(ReadOnlySpan<long> shape, Generator generator, DType dtype = DType.Float32, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_random_rand(generator, shape, shape.Length, (int)dtype, (int)device.Type, device.NativeIndex, out nint r), r);

    /// <summary>Int64 samples uniform in [low, high).</summary>
    public static Tensor RandInt(long low, long high, ReadOnlySpan<long> shape, Generator generator, Device device = default) =>
        Tensor.FromNative(NativeMethods.cg_random_randint(generator, low, high, shape, shape.Length, (int)device.Type, device.NativeIndex, out nint r), r);
}
