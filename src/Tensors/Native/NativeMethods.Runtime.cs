using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_runtime.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_api_version();
    [LibraryImport(Lib)] internal static partial long cg_last_error(byte* buf, long len);
    [LibraryImport(Lib)] internal static partial long cg_live_tensors();
    [LibraryImport(Lib)] internal static partial int cg_torch_version(byte* buf, long len);
    [LibraryImport(Lib)] internal static partial int cg_cpu_capability(byte* buf, long len);
    [LibraryImport(Lib)] internal static partial int cg_build_features(byte* buf, long len);
    [LibraryImport(Lib)] internal static partial int cg_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int cg_get_num_threads(out int @out);
}
