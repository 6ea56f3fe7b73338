namespace CharacterGen.Tensors.Native;

internal static unsafe partial class NativeMethods
{
    /// <summary>libcgtorch.so, built from native/ and copied next to the assembly.</summary>
    internal const string Lib = "cgtorch";

    /// <summary>The export set this assembly was written against (CG_API_VERSION in cg_runtime.cpp).</summary>
    internal const int ExpectedApiVersion = 1;

    // Runs before the first native call: a stale libcgtorch.so fails here with a clear message
    // instead of a crash in some mismatched export later.
    static NativeMethods()
    {
        int found;
        try
        {
            found = cg_api_version();
        }
        catch (DllNotFoundException e)
        {
            throw new TorchException(
                $"the native tensor library (lib{Lib}.so) could not be loaded: {e.Message}. " +
                "Build with `dotnet build` (it compiles native/) and install libtorch (see README).");
        }
        if (found != ExpectedApiVersion)
            throw new TorchException($"lib{Lib}.so has API version {found}, this assembly needs {ExpectedApiVersion}; rebuild native/");
    }
}
