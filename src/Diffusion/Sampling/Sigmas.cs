using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// A noise schedule: σ₀ &gt; σ₁ &gt; … ending (usually) in 0; one sampler step per consecutive pair. Values are stored
/// as float32, as ComfyUI's SIGMAS are a FloatTensor, so slicing and comparisons behave the same.
/// </summary>
public sealed class Sigmas
{
    private readonly float[] _values;

    public Sigmas(IEnumerable<double> values) => _values = values.Select(v => (float)v).ToArray();

    public Sigmas(IEnumerable<float> values) => _values = values.ToArray();

    public static Sigmas Empty { get; } = new(Array.Empty<float>());

    public int Count => _values.Length;

    /// <summary>Sampler steps: one fewer than the number of values (0 when empty).</summary>
    public int Steps => Math.Max(0, _values.Length - 1);

    public double this[int index] => _values[index < 0 ? index + _values.Length : index];

    public double First => _values[0];

    public double Last => _values[^1];

    /// <summary>Values start..end (exclusive), with Python slice semantics for negative or out-of-range bounds.</summary>
    public Sigmas Slice(int start, int end)
    {
        int n = _values.Length;
        int s = Math.Clamp(start < 0 ? start + n : start, 0, n);
        int e = Math.Clamp(end < 0 ? end + n : end, 0, n);
        return new Sigmas(e > s ? _values[s..e] : []);
    }

    /// <summary>The same values with the last one replaced.</summary>
    public Sigmas WithLast(double value)
    {
        float[] copy = (float[])_values.Clone();
        copy[^1] = (float)value;
        return new Sigmas(copy);
    }

    /// <summary>All values but the second to last (ComfyUI's "discard penultimate sigma").</summary>
    public Sigmas WithoutPenultimate() =>
        _values.Length < 2 ? this : new Sigmas(_values[..^2].Append(_values[^1]));

    public double[] ToArray() => _values.Select(v => (double)v).ToArray();

    public float[] ToFloatArray() => (float[])_values.Clone();

    /// <summary>A 1-D float32 tensor, ComfyUI's SIGMAS value.</summary>
    public Tensor ToTensor() => Torch.FromArray(_values);

    public static Sigmas FromTensor(Tensor t)
    {
        using var scope = Torch.NewScope();
        return new Sigmas(t.Flatten().To(Device.Cpu, DType.Float32).ToArray<float>());
    }

    public override string ToString() => $"Sigmas[{string.Join(", ", _values.Select(v => v.ToString("G7")))}]";
}
