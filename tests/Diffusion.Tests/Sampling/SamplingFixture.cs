using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

/// <summary>Reads Fixtures/sampling.safetensors, written by Fixtures/make_sampling_fixtures.py with PyTorch 1.13.</summary>
internal static class SamplingFixture
{
    private static readonly Lazy<SafetensorsFile> s_file =
        new(() => SafetensorsFile.Open(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "sampling.safetensors")));

    public static SafetensorsFile File => s_file.Value;

    public static Tensor Tensor(string name) => File.LoadTensor(name);

    public static double[] Doubles(string name)
    {
        using var scope = Torch.NewScope();
        return File.LoadTensor(name).To(DType.Float64).ToArray<double>();
    }

    public static float[] Floats(string name)
    {
        using var scope = Torch.NewScope();
        return File.LoadTensor(name).To(DType.Float32).ToArray<float>();
    }

    public static string Meta(string key) => File.Metadata[key];
}

internal static class Close
{
    /// <summary>Element-wise |a − e| ≤ rel·|e| + abs, with the first offending index in the message.</summary>
    public static void Assert(IReadOnlyList<double> actual, IReadOnlyList<double> expected, double rel = 1e-5, double abs = 1e-7, string what = "")
    {
        NUnit.Framework.Assert.That(actual, Has.Count.EqualTo(expected.Count), $"{what}: length ({Show(actual)} vs {Show(expected)})");
        for (int i = 0; i < expected.Count; i++)
        {
            double tol = rel * Math.Abs(expected[i]) + abs;
            if (!(Math.Abs(actual[i] - expected[i]) <= tol))
                NUnit.Framework.Assert.Fail($"{what}[{i}]: {actual[i]:R} vs {expected[i]:R} (tolerance {tol:G3})\n actual   {Show(actual)}\n expected {Show(expected)}");
        }
    }

    public static void Assert(Tensor actual, Tensor expected, double rel = 1e-5, double abs = 1e-7, string what = "")
    {
        using var scope = Torch.NewScope();
        NUnit.Framework.Assert.That(actual.Shape, Is.EqualTo(expected.Shape), what + ": shape");
        Assert(actual.To(DType.Float64).ToArray<double>(), expected.To(DType.Float64).ToArray<double>(), rel, abs, what);
    }

    private static string Show(IReadOnlyList<double> v) =>
        "[" + string.Join(", ", v.Take(12).Select(x => x.ToString("G8"))) + (v.Count > 12 ? ", …" : "") + "]";
}
