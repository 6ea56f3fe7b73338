using CharacterGen.Tensors;

namespace CharacterGen.Nodes.ModelCaching;

/// <summary>Where cached weights live and how many model files stay loaded.</summary>
public sealed record ModelCacheOptions
{
    public const int DefaultMaxLoaded = 3;
    public const int DefaultMaxAuxiliaryLoaded = 8;

    /// <summary>The environment variable naming the device weights go to ("cpu", "cuda", "cuda:1").</summary>
    public const string DeviceVariable = "CHARACTERGEN_DEVICE";

    /// <summary>
    /// The environment variable naming the weight dtype ("float32", "float16", "bfloat16"). On a CPU with AVX512-BF16,
    /// bfloat16 runs small images about twice as fast; float32 (the default) matches ComfyUI's CPU results.
    /// </summary>
    public const string WeightDTypeVariable = "CHARACTERGEN_WEIGHT_DTYPE";

    /// <summary>Model files (checkpoints and VAE files together) kept loaded; the least recently used goes first.</summary>
    public int MaxLoaded { get; init; } = DefaultMaxLoaded;

    /// <summary>
    /// ControlNets, CLIP vision encoders, IP-Adapters and ONNX sessions (depth, faces) kept loaded, counted apart from
    /// checkpoints: they are smaller and a workflow uses several at once.
    /// </summary>
    public int MaxAuxiliaryLoaded { get; init; } = DefaultMaxAuxiliaryLoaded;

    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Weight dtype; null = float32 on the CPU, float16 on CUDA.</summary>
    public DType? WeightDType { get; init; }

    public DType EffectiveWeightDType => WeightDType ?? (Device.IsCuda ? DType.Float16 : DType.Float32);

    public static ModelCacheOptions Default { get; } = new();

    /// <summary>The defaults, with the device and weight dtype from <see cref="DeviceVariable"/> and <see cref="WeightDTypeVariable"/>.</summary>
    public static ModelCacheOptions FromEnvironment() =>
        FromVariables(Environment.GetEnvironmentVariable(DeviceVariable), Environment.GetEnvironmentVariable(WeightDTypeVariable));

    public static ModelCacheOptions FromVariables(string? device, string? weightDType)
    {
        var options = Default;
        if (!string.IsNullOrWhiteSpace(device)) options = options with { Device = Device.Parse(device.Trim()) };
        if (!string.IsNullOrWhiteSpace(weightDType)) options = options with { WeightDType = ParseWeightDType(weightDType.Trim()) };
        return options;
    }

    private static DType ParseWeightDType(string text) => text.ToLowerInvariant() switch
    {
        "float32" or "fp32" => DType.Float32,
        "float16" or "fp16" => DType.Float16,
        "bfloat16" or "bf16" => DType.BFloat16,
        _ => throw new FormatException($"{WeightDTypeVariable} must be float32, float16 or bfloat16, not '{text}'"),
    };

    public void Validate()
    {
        if (MaxLoaded < 1) throw new ArgumentOutOfRangeException(nameof(MaxLoaded), MaxLoaded, "must be at least 1");
        if (MaxAuxiliaryLoaded < 1) throw new ArgumentOutOfRangeException(nameof(MaxAuxiliaryLoaded), MaxAuxiliaryLoaded, "must be at least 1");
    }
}
