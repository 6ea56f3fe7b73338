using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Models;

/// <summary>Where cached weights live and how many model files stay loaded.</summary>
public sealed record ModelCacheOptions
{
    public const int DefaultMaxLoaded = 3;

    /// <summary>The environment variable naming the device weights go to ("cpu", "cuda", "cuda:1").</summary>
    public const string DeviceVariable = "CHARACTERGEN_DEVICE";

    /// <summary>Model files (checkpoints and VAE files together) kept loaded; the least recently used goes first.</summary>
    public int MaxLoaded { get; init; } = DefaultMaxLoaded;

    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Weight dtype; null = float32 on the CPU, float16 on CUDA.</summary>
    public DType? WeightDType { get; init; }

    public DType EffectiveWeightDType => WeightDType ?? (Device.IsCuda ? DType.Float16 : DType.Float32);

    public static ModelCacheOptions Default { get; } = new();

    /// <summary>The defaults, with the device from <see cref="DeviceVariable"/> when it is set.</summary>
    public static ModelCacheOptions FromEnvironment()
    {
        string? device = Environment.GetEnvironmentVariable(DeviceVariable);
        return string.IsNullOrWhiteSpace(device) ? Default : Default with { Device = Device.Parse(device.Trim()) };
    }

    public void Validate()
    {
        if (MaxLoaded < 1) throw new ArgumentOutOfRangeException(nameof(MaxLoaded), MaxLoaded, "must be at least 1");
    }
}
