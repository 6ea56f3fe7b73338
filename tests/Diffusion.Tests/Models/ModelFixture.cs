using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>
/// The tiny SD1.5-layout checkpoint and the PyTorch reference inputs/outputs written by
/// Fixtures/make_model_fixtures.py (an independent plain-PyTorch implementation of the three networks).
/// </summary>
internal static class ModelFixture
{
    public static string Directory => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures");

    public static string CheckpointPath => FixtureCheckpoint.Path("sd15_tiny.weights.json");

    public static string IoPath => Path.Combine(Directory, "sd15_tiny_io.safetensors");

    /// <summary>Loads the fixture checkpoint in float32 on the CPU; the caller disposes it.</summary>
    public static StableDiffusionCheckpoint Load() => CheckpointLoader.Load(CheckpointPath);

    /// <summary>One reference tensor, owned by the caller's scope.</summary>
    public static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(IoPath);
        return file.LoadTensor(name);
    }
}

/// <summary>Tensor comparisons relative to the expected tensor's scale: |a − e| ≤ rel · max|e| for every element.</summary>
internal static class TensorCompare
{
    public static void Close(Tensor actual, Tensor expected, double rel = 1e-4, string? what = null)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        double[] a = ToDoubles(actual), e = ToDoubles(expected);
        double scale = e.Max(Math.Abs), worst = 0;
        int at = -1;
        for (int i = 0; i < e.Length; i++)
        {
            double d = Math.Abs(a[i] - e[i]);
            if (!(d <= worst)) (worst, at) = (d, i);
        }
        Assert.That(worst, Is.LessThanOrEqualTo(rel * scale),
            $"{what}: element {at} is {a[Math.Max(at, 0)]:R}, expected {e[Math.Max(at, 0)]:R} (max |e| {scale:G4})");
    }

    public static void Finite(Tensor t, string? what = null) =>
        Assert.That(ToDoubles(t).All(double.IsFinite), Is.True, $"{what}: not all finite");

    public static double[] ToDoubles(Tensor t)
    {
        using var scope = Torch.NewScope();
        return t.To(DType.Float64).To(Device.Cpu).ToArray<double>();
    }
}
