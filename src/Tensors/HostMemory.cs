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
}
