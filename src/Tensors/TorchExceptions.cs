namespace CharacterGen.Tensors;

/// <summary>A libtorch operation failed; the message is libtorch's own.</summary>
public class TorchException(string message) : Exception(message);

/// <summary>Device or host memory ran out during a tensor operation.</summary>
public sealed class TorchOutOfMemoryException(string message) : TorchException(message);

/// <summary>An operation was given arguments it cannot accept (shapes, dtypes, indices).</summary>
public sealed class TorchArgumentException(string message) : TorchException(message);

/// <summary>The operation is not implemented for these inputs by this libtorch build.</summary>
public sealed class TorchNotImplementedException(string message) : TorchException(message);
