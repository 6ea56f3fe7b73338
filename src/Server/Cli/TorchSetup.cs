using CharacterGen.Tensors;

namespace CharacterGen.Server.Cli;

/// <summary>Process-wide libtorch settings, applied once before tensor work.</summary>
public static class TorchSetup
{
    /// <summary>
    /// libtorch defaults to one intra-op thread when embedded; use every core unless CHARACTERGEN_THREADS says otherwise.
    /// </summary>
    public static void ConfigureThreads()
    {
        string? configured = Environment.GetEnvironmentVariable("CHARACTERGEN_THREADS");
        Torch.Threads = int.TryParse(configured, out int n) && n > 0 ? n : Environment.ProcessorCount;
        ConfigureAllocator();
    }

    /// <summary>
    /// CPU tensors go through the caching allocator (<see cref="HostMemory.UseCachingAllocator"/>), keeping at most a
    /// quarter of the machine's memory (8 GiB at most) of freed blocks for reuse; POST /free returns them.
    /// CHARACTERGEN_CPU_CACHE_MB sets the cap in MiB; 0 leaves libtorch's own allocator in place.
    /// </summary>
    public static void ConfigureAllocator()
    {
        string? configured = Environment.GetEnvironmentVariable("CHARACTERGEN_CPU_CACHE_MB");
        long cap = long.TryParse(configured, out long mb) && mb >= 0
            ? mb << 20
            : Math.Min(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4, 8L << 30);
        if (cap > 0) HostMemory.UseCachingAllocator(cap);
    }
}
