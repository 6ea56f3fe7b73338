using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>CUDA devices and their memory. On a CPU-only libtorch these report no devices and do nothing.</summary>
public static class Cuda
{
    public static bool IsAvailable
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_cuda_is_available(out int r));
            return r != 0;
        }
    }

    public static int DeviceCount
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_cuda_device_count(out int n));
            return n;
        }
    }

    /// <summary>Waits for all queued work on the device to finish (for timing and before host reads).</summary>
    public static void Synchronize(int device = 0) => NativeStatus.Check(NativeMethods.cg_cuda_synchronize(device));

    /// <summary>Bytes held by live tensors, and bytes reserved by libtorch's caching allocator.</summary>
    public static (long Allocated, long Reserved) Memory(int device = 0)
    {
        NativeStatus.Check(NativeMethods.cg_cuda_memory(device, out long allocated, out long reserved));
        return (allocated, reserved);
    }

    /// <summary>
    /// The device's free and total bytes as the driver reports them (what other processes hold is not free); both 0
    /// when libtorch has no CUDA. A device that does not exist or cannot be queried throws <see cref="TorchException"/>.
    /// </summary>
    public static (long Free, long Total) DeviceMemory(int device = 0)
    {
        NativeStatus.Check(NativeMethods.cg_cuda_mem_info(device, out long free, out long total));
        return (free, total);
    }

    /// <summary>Returns cached, unused device memory to the driver.</summary>
    public static void EmptyCache() => NativeStatus.Check(NativeMethods.cg_cuda_empty_cache());
}
