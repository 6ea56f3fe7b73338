using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>Facts about the native runtime, and its process-wide settings.</summary>
public static unsafe partial class Torch
{
    /// <summary>libtorch's version, e.g. "1.13.0".</summary>
    public static string LibTorchVersion => NativeStatus.ReadString(&NativeMethods.cg_torch_version);

    /// <summary>The CPU kernel set libtorch dispatches to: "default", "avx2" or "avx512".</summary>
    public static string CpuCapability => NativeStatus.ReadString(&NativeMethods.cg_cpu_capability);

    /// <summary>
    /// The shim's compile-time switches (native/CMakeLists.txt), e.g. ["sdpa", "float8", "cuda"] against a CUDA
    /// libtorch 2.x, none against Debian's CPU libtorch 1.13.
    /// </summary>
    public static IReadOnlyList<string> NativeBuildFeatures =>
        NativeStatus.ReadString(&NativeMethods.cg_build_features).Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Intra-op threads libtorch uses. Its default is 1 in an embedding process, so set it explicitly.</summary>
    public static int Threads
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_get_num_threads(out int n));
            return n;
        }
        set => NativeStatus.Check(NativeMethods.cg_set_num_threads(value));
    }

    /// <summary>Native tensor objects alive in libcgtorch (counts tensors the C# side has not yet released).</summary>
    public static long NativeLiveTensors => NativeMethods.cg_live_tensors();

    /// <summary>The shim's API version, checked against this assembly when the library loads.</summary>
    public static int NativeApiVersion => NativeMethods.cg_api_version();
}
