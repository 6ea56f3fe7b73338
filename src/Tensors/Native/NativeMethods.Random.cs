using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_random.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_generator_new(ulong seed, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_generator_free(nint g);
    [LibraryImport(Lib)] internal static partial int cg_generator_set_seed(Generator g, ulong seed);
    [LibraryImport(Lib)] internal static partial int cg_generator_get_state(Generator g, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_generator_set_state(Generator g, Tensor state);
    [LibraryImport(Lib)] internal static partial int cg_random_randn(Generator g, ReadOnlySpan<long> shape, int ndim, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_random_rand(Generator g, ReadOnlySpan<long> shape, int ndim, int dtype, int dt, int di, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_random_randint(Generator g, long low, long high, ReadOnlySpan<long> shape, int ndim, int dt, int di, out nint @out);
}
