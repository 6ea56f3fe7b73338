using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Where a parameter's value lives in the file: a key, or one of <see cref="Parts"/> equal slices (dim 0) of a fused
/// tensor; <see cref="Transposed"/> marks a matrix stored as its transpose (OpenCLIP's text_projection).
/// </summary>
internal readonly record struct WeightRef(string Key, int Part = 0, int Parts = 1, bool Transposed = false)
{
    /// <summary>The shape the file holds for a parameter of <paramref name="shape"/>.</summary>
    public long[] StoredShape(long[] shape) =>
        Transposed ? [shape[1] * Parts, shape[0]] : [shape[0] * Parts, .. shape[1..]];
}

/// <summary>
/// Fills modules from a safetensors file by walking parameter names. Every key and shape is checked against the
/// header before any tensor is read, and all problems are reported together. Accepted shape variants: a 1×1
/// convolution stored as a matrix ([o, i] for [o, i, 1, 1], as in diffusers-converted VAEs).
/// </summary>
internal sealed class WeightBinder(SafetensorsFile file)
{
    private readonly List<(Parameter Param, WeightRef Ref)> _plan = [];
    private readonly List<string> _missing = [];
    private readonly List<string> _mismatched = [];

    public HashSet<string> UsedKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Plans <paramref name="module"/>'s parameters, each read from <c>prefix + name</c>.</summary>
    public void Add(Module module, string prefix) => Add(module, name => new WeightRef(prefix + name));

    /// <summary>Plans <paramref name="module"/>'s parameters through a name map (for layouts that differ from ours).</summary>
    public void Add(Module module, Func<string, WeightRef> map)
    {
        foreach (var (name, p) in module.NamedParameters())
        {
            WeightRef r = map(name);
            if (!file.TryGet(r.Key, out SafetensorsEntry? entry))
            {
                if (!p.Optional) _missing.Add(r.Key);
                continue;
            }
            long[] stored = entry.Shape;
            if (r.Parts > 1)
            {
                if (stored.Length == 0 || stored[0] % r.Parts != 0)
                {
                    _mismatched.Add($"{r.Key}: file {Format(stored)} cannot be split in {r.Parts} along dim 0");
                    continue;
                }
                stored = [stored[0] / r.Parts, .. stored[1..]];
            }
            if (r.Transposed) stored = stored.Length == 2 ? [stored[1], stored[0]] : stored;
            if (!Compatible(stored, p.Shape))
            {
                _mismatched.Add($"{r.Key}: file {Format(entry.Shape)} vs expected {Format(p.Shape)}");
                continue;
            }
            _plan.Add((p, r));
            UsedKeys.Add(r.Key);
        }
    }

    /// <summary>Throws <see cref="CheckpointLoadException"/> naming the first problems, if any; else reads every planned tensor.</summary>
    public void Load(DType dtype, Device device)
    {
        ThrowIfIncomplete();
        foreach (var (p, r) in _plan)
        {
            using var scope = Torch.NewScope();
            Tensor t = r.Parts > 1 ? file.LoadTensor(r.Key, dtype) : file.LoadTensor(r.Key, dtype, device);
            if (r.Parts > 1)
            {
                long n = t.Size(0) / r.Parts;
                t = t.Narrow(0, r.Part * n, n).Contiguous().To(device);
            }
            if (r.Transposed) t = t.Transpose(0, 1).Contiguous();
            if (!t.Shape.AsSpan().SequenceEqual(p.Shape)) t = t.Reshape(p.Shape);
            p.Set(t);
        }
    }

    /// <summary>Throws <see cref="CheckpointLoadException"/> naming the first missing or mis-shaped keys, reading nothing.</summary>
    public void ThrowIfIncomplete()
    {
        if (_missing.Count > 0 || _mismatched.Count > 0)
        {
            var lines = new List<string>();
            if (_missing.Count > 0) lines.Add($"{_missing.Count} missing: {string.Join(", ", _missing.Take(8))}{(_missing.Count > 8 ? ", …" : "")}");
            if (_mismatched.Count > 0) lines.Add($"{_mismatched.Count} of the wrong shape: {string.Join("; ", _mismatched.Take(8))}{(_mismatched.Count > 8 ? "; …" : "")}");
            throw new CheckpointLoadException(
                $"'{Path.GetFileName(file.Path)}' does not fit the detected network: {string.Join(". ", lines)}", _missing, _mismatched);
        }
    }

    private static bool Compatible(long[] stored, long[] expected) =>
        stored.AsSpan().SequenceEqual(expected)
        || (expected.Length == 4 && expected[2] == 1 && expected[3] == 1 && stored.Length == 2
            && stored[0] == expected[0] && stored[1] == expected[1]);

    internal static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";
}
