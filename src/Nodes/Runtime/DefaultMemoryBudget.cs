using System.Globalization;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Runtime;

/// <summary>
/// The memory budget when the operator sets none: three quarters of what the job's device can hold, leaving room for
/// the loaded weights, the runtime and the rest of the host. On the CPU that is the memory this process may use
/// (physical memory, or the container's limit); on a CUDA device, the memory the driver reports free when the server
/// starts (other processes' use excluded). A CUDA device that cannot be queried falls back to the host's figure; the
/// readiness check reports the device itself.
/// </summary>
public static class DefaultMemoryBudget
{
    public const double Fraction = 0.75;

    /// <summary>The budget and where it came from, for the start-up log.</summary>
    public sealed record Choice(MemoryBudget Budget, string Source);

    /// <summary>The default for <paramref name="device"/>, measured now.</summary>
    public static Choice For(Device device) =>
        Choose(device, () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, Cuda.DeviceMemory);

    /// <param name="hostAvailableBytes">Memory this process may use on the host.</param>
    /// <param name="deviceMemory">A CUDA device's (free, total) bytes by index; may throw when it cannot be queried.</param>
    public static Choice Choose(Device device, Func<long> hostAvailableBytes, Func<int, (long Free, long Total)> deviceMemory)
    {
        string? problem = null;
        if (device.IsCuda)
        {
            try
            {
                var (free, total) = deviceMemory(device.Index);
                if (free > 0)
                    return new(new((long)(free * Fraction)), $"3/4 of the {GiB(free)} free on {device} (of {GiB(total)})");
                problem = $"{device} reports no memory";
            }
            catch (TorchException e)
            {
                problem = $"{device} could not be queried: {e.Message}";
            }
        }
        long host = hostAvailableBytes();
        string source = $"3/4 of the {GiB(host)} of host memory this process may use";
        return new(new((long)(host * Fraction)), problem is null ? source : $"{source} ({problem})");
    }

    private static string GiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB");
}
