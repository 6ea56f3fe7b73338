using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>The process's native heap, where libtorch's CPU tensors live.</summary>
public static class HostMemory
{
    /// <summary>
    /// Returns freed heap pages to the operating system (glibc malloc_trim), so the resident size falls after big
    /// tensors are released. True when something was returned. Call after dropping caches, not on a hot path.
    /// </summary>
    public static bool Trim()
    {
        NativeStatus.Check(NativeMethods.cg_memory_trim(out int released));
        return released != 0;
    }

    /// <summary>
    /// Bytes of native heap in use (allocated and not freed), where libtorch's CPU tensors live; null where the C
    /// library cannot report it. Process-wide: compare two readings on one thread with nothing else running.
    /// </summary>
    public static long? InUseBytes()
    {
        NativeStatus.Check(NativeMethods.cg_memory_in_use(out long bytes));
        return bytes < 0 ? null : bytes;
    }
}
