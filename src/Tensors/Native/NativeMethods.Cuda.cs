using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_cuda.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_cuda_is_available(out int @out);
    [LibraryImport(Lib)] internal static partial int cg_cuda_device_count(out int @out);
    [LibraryImport(Lib)] internal static partial int cg_cuda_synchronize(int device);
    [LibraryImport(Lib)] internal static partial int cg_cuda_memory(int device, out long allocated, out long reserved);
    [LibraryImport(Lib)] internal static partial int cg_cuda_empty_cache();
    [LibraryImport(Lib)] internal static partial int cg_cuda_mem_info(int device, out long free, out long total);
}
