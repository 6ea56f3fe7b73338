using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// A node value that owns tensor handles. The output cache disposes it when its last entry goes, so every tensor it
/// lists must be its own handle: a value built from another value's tensors holds aliases (<see cref="Tensor.Alias"/>).
/// </summary>
public interface ITensorOwner : IDisposable
{
    /// <summary>The handles this value disposes; the node wrapper moves them out of the call's dispose scope.</summary>
    IEnumerable<Tensor> OwnedTensors { get; }
}
