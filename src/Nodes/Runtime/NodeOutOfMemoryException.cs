using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Runtime;

/// <summary>
/// A node ran out of host or device memory. The job fails with this (naming the node, through the engine's error),
/// the node's tensors are released by its dispose scope, and the server keeps serving.
/// </summary>
public sealed class NodeOutOfMemoryException(string classType, Exception inner)
    : Exception($"{classType} ran out of memory ({First(inner.Message)}). Try a smaller image or batch, or free models with /free.", inner)
{
    /// <summary>libtorch's out-of-memory errors: the typed one (CUDA, std::bad_alloc) and the CPU allocator's plain messages.</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is TorchOutOfMemoryException or OutOfMemoryException
        || (e is TorchException && OutOfMemoryMessages.Any(m => e.Message.Contains(m, StringComparison.OrdinalIgnoreCase)));

    // libtorch's CPU allocator raises a plain c10::Error: "DefaultCPUAllocator: can't allocate memory" (1.13),
    // "not enough memory" (2.x); CUDA's caching allocator says "CUDA out of memory".
    private static readonly string[] OutOfMemoryMessages = ["can't allocate memory", "not enough memory", "out of memory"];

    private static string First(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 160 ? line : line[..157] + "...";
    }
}
