namespace CharacterGen.Tensors.Safetensors;

/// <summary>Loads safetensors entries as tensors and saves tensors as safetensors files.</summary>
public static class SafetensorsTensors
{
    // Reads go in slices of this size: spans are int-indexed, and single tensors can exceed 2 GiB.
    private const int ReadSliceBytes = 1 << 30;

    /// <summary>
    /// Loads one tensor. <paramref name="dtype"/> converts it (null keeps the file's dtype; fp8 entries, which
    /// libtorch 1.13 cannot hold, are widened to float32 first). The tensor is read on the CPU, then moved.
    /// </summary>
    public static Tensor LoadTensor(this SafetensorsFile file, string name, DType? dtype = null, Device device = default)
    {
        SafetensorsEntry entry = file[name];
        using var scope = Torch.NewScope();
        Tensor t = entry.DType is SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2
            ? LoadFloat8(file, entry)
            : LoadDirect(file, entry, ToDType(entry));
        if (dtype is { } d && d != t.DType) t = t.To(d);
        if (device != Device.Cpu) t = t.To(device);
        return t.MoveToOuterScope();
    }

    /// <summary>The tensor dtype an entry loads as (float32 for fp8).</summary>
    public static DType LoadedDType(SafetensorsEntry entry) =>
        entry.DType is SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2 ? DType.Float32 : ToDType(entry);

    /// <summary>Writes tensors (in the given order) atomically; each is copied to the host one at a time.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var byName = list.ToDictionary(p => p.Key, p => p.Value);
        var infos = list.Select(p => new SafetensorsTensorInfo(p.Key, ToSafetensors(p.Value.DType), p.Value.Shape));
        SafetensorsWriter.Write(path, infos, (info, stream) => stream.Write(byName[info.Name].ToBytes()), metadata);
    }

    private static unsafe Tensor LoadDirect(SafetensorsFile file, SafetensorsEntry entry, DType dtype)
    {
        Tensor t = Torch.Empty(entry.Shape, dtype);
        Native.NativeStatus.Check(Native.NativeMethods.cg_tensor_data_ptr(t, out nint data));
        for (long done = 0; done < entry.ByteLength; done += ReadSliceBytes)
        {
            int n = (int)Math.Min(ReadSliceBytes, entry.ByteLength - done);
            file.ReadSlice(entry.Name, done, new Span<byte>((byte*)data + done, n));
        }
        GC.KeepAlive(t);
        return t;
    }

    private static Tensor LoadFloat8(SafetensorsFile file, SafetensorsEntry entry)
    {
        byte[] raw = file.ReadBytes(entry.Name);
        var values = new float[raw.Length];
        Float8.DecodeToFloat32(raw, values, entry.DType);
        return Torch.FromArray<float>(values, entry.Shape);
    }

    private static DType ToDType(SafetensorsEntry entry) => entry.DType switch
    {
        SafetensorsDType.F32 => DType.Float32,
        SafetensorsDType.F16 => DType.Float16,
        SafetensorsDType.BF16 => DType.BFloat16,
        SafetensorsDType.F64 => DType.Float64,
        SafetensorsDType.I64 => DType.Int64,
        SafetensorsDType.I32 => DType.Int32,
        SafetensorsDType.I16 => DType.Int16,
        SafetensorsDType.I8 => DType.Int8,
        SafetensorsDType.U8 => DType.UInt8,
        SafetensorsDType.Bool => DType.Bool,
        _ => throw new NotSupportedException(
            $"tensor '{entry.Name}' has dtype {entry.DType.ToHeaderName()}, which CharacterGen cannot load as a tensor"),
    };

    private static SafetensorsDType ToSafetensors(DType dtype) => dtype switch
    {
        DType.Float32 => SafetensorsDType.F32,
        DType.Float16 => SafetensorsDType.F16,
        DType.BFloat16 => SafetensorsDType.BF16,
        DType.Float64 => SafetensorsDType.F64,
        DType.Int64 => SafetensorsDType.I64,
        DType.Int32 => SafetensorsDType.I32,
        DType.Int16 => SafetensorsDType.I16,
        DType.Int8 => SafetensorsDType.I8,
        DType.UInt8 => SafetensorsDType.U8,
        DType.Bool => SafetensorsDType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };
}
