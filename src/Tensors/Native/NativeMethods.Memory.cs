using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_memory.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_memory_trim(out int released);
    [LibraryImport(Lib)] internal static partial int cg_memory_in_use(out long bytes);
    [LibraryImport(Lib)] internal static partial int cg_cpu_allocator_install(long capBytes);
    [LibraryImport(Lib)] internal static partial int cg_cpu_allocator_cached(out long bytes);
}
