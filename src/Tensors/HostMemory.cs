using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>The process's native heap, where libtorch's CPU tensors live.</summary>
public static class HostMemory
{
    /// <summary>
    /// Returns freed memory to the operating system: the caching allocator's blocks (<see cref="UseCachingAllocator"/>)
    /// and glibc's free heap pages (malloc_trim), so the resident size falls after big tensors are released. True when
    /// something was returned. Call after dropping caches, not on a hot path.
    /// </summary>
    public static bool Trim()
    {
        NativeStatus.Check(NativeMethods.cg_memory_trim(out int released));
        return released != 0;
    }

    /// <summary>
    /// Makes libtorch allocate CPU tensors through our caching allocator: freed blocks of 1 MiB and up are kept for
    /// the next tensor of about the same size, so repeated calls such as
    /// sampler steps stop faulting their memory in from the OS each time. At most <paramref name="capBytes"/> are kept;
    /// <see cref="Trim"/> returns them all. Call once at start-up, before tensor work (again only to change the cap).
    /// </summary>
    public static void UseCachingAllocator(long capBytes) =>
        NativeStatus.Check(NativeMethods.cg_cpu_allocator_install(capBytes));

    /// <summary>Bytes of freed tensor memory the caching allocator holds for reuse (0 when it is not in use).</summary>
    public static long CachedBytes()
    {
        NativeStatus.Check(NativeMethods.cg_cpu_allocator_cached(out long bytes));
        return bytes;
    }

    /// <summary>
    /// Bytes of native heap in use (allocated and not freed, not counting the caching allocator's kept blocks), where
    /// libtorch's CPU tensors live; null where the C
    /// library cannot report it. Process-wide: compare two readings on one thread with nothing else running.
    /// </summary>
    public static long? InUseBytes()
    {
        NativeStatus.Check(NativeMethods.cg_memory_in_use(out long bytes));
        return bytes < 0 ? null : bytes;
    }
}
