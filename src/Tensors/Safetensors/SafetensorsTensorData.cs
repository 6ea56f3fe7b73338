namespace CharacterGen.Tensors.Safetensors;

/// <summary>A tensor to write whose bytes are produced later, by the streaming writer's callback.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape);

/// <summary>A tensor to write with its bytes in memory (little-endian, row-major, shape × element size bytes).</summary>
public sealed record SafetensorsTensorData(string Name, SafetensorsDType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public SafetensorsTensorInfo Info => new(Name, DType, Shape);
}
