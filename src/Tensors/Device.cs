namespace CharacterGen.Tensors;

public enum DeviceType
{
    Cpu = 0,
    Cuda = 1,
}

/// <summary>Where a tensor lives: "cpu" or "cuda:N". default(Device) is the CPU.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static readonly Device Cpu = new(DeviceType.Cpu);

    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    public bool IsCuda => Type == DeviceType.Cuda;

    /// <summary>Parses "cpu", "cuda" or "cuda:N" (PyTorch's spelling).</summary>
    public static Device Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int i) && i >= 0) return Cuda(i);
        throw new FormatException($"'{text}' is not a device; expected cpu, cuda or cuda:N");
    }

    public override string ToString() => IsCuda ? $"cuda:{Index}" : "cpu";

    internal int NativeIndex => IsCuda ? Index : -1;
}
