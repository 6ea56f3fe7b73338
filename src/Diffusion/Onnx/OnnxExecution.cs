using Microsoft.ML.OnnxRuntime;

namespace CharacterGen.Diffusion.Onnx;

/// <summary>Where a session runs: the CPU, or CUDA device <see cref="CudaDevice"/> when the loaded native library has the provider.</summary>
/// <param name="IntraOpThreads">ONNX Runtime's intra-op threads; 0 = its default (one per physical core).</param>
public sealed record OnnxExecution(int? CudaDevice = null, int IntraOpThreads = 0)
{
    public const string CudaProvider = "CUDAExecutionProvider";

    public static OnnxExecution Cpu { get; } = new();

    /// <summary>The execution providers the loaded onnxruntime native library was built with.</summary>
    public static IReadOnlyList<string> AvailableProviders() => OrtEnv.Instance().GetAvailableProviders();

    /// <summary>
    /// Session options for this target. CUDA falls back to the CPU when the library lacks the provider (the CPU
    /// package) or cannot start it (no driver, missing cuDNN); <paramref name="fallbackReason"/> then says why.
    /// </summary>
    internal SessionOptions CreateOptions(out string provider, out string? fallbackReason)
    {
        var options = new SessionOptions
        {
            // One session per file, shared by jobs: ORT's own pool does the intra-op work, no inter-op parallelism.
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            IntraOpNumThreads = IntraOpThreads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        provider = "CPU";
        fallbackReason = null;
        if (CudaDevice is not int device) return options;
        if (!AvailableProviders().Contains(CudaProvider))
        {
            fallbackReason = "this onnxruntime build has no CUDA execution provider (the CPU package Microsoft.ML.OnnxRuntime; " +
                "GPU hosts need Microsoft.ML.OnnxRuntime.Gpu.Linux)";
            return options;
        }
        try
        {
            options.AppendExecutionProvider_CUDA(device);
            provider = "CUDA";
        }
        catch (OnnxRuntimeException e)
        {
            fallbackReason = "the CUDA execution provider did not start: " + e.Message;
        }
        return options;
    }
}
