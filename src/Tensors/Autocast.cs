using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>
/// Mixed precision (torch.autocast): inside a scope, libtorch runs matmuls and convolutions in bf16 (or fp16 on CUDA)
/// on float32 weights and keeps precision-sensitive ops in float32; gradients flow back to the float32 tensors. The
/// state is per thread: dispose the scope on the thread that opened it. Wrap the forward pass only, as PyTorch advises.
/// </summary>
public static class Autocast
{
    /// <summary>Enables autocast for <paramref name="device"/>'s type on this thread until disposed. The CPU takes bf16 only.</summary>
    public static Scope Enable(Device device, DType dtype = DType.BFloat16) => new(device.Type, dtype);

    /// <summary>Whether autocast is on for this device type on this thread.</summary>
    public static bool IsEnabled(DeviceType device)
    {
        NativeStatus.Check(NativeMethods.cg_autocast_is_enabled((int)device, out int r));
        return r != 0;
    }

    public sealed class Scope : IDisposable
    {
        private nint _guard;

        internal Scope(DeviceType device, DType dtype) =>
            NativeStatus.Check(NativeMethods.cg_autocast_enter((int)device, (int)dtype, out _guard));

        public void Dispose()
        {
            if (_guard == 0) return;
            NativeStatus.Check(NativeMethods.cg_autocast_exit(_guard));
            _guard = 0;
        }
    }
}
