using CharacterGen.Tensors;

namespace CharacterGen.Tensors.Tests;

/// <summary>Element-wise comparison of tensors with explicit tolerances: |a − e| ≤ atol + rtol·|e|.</summary>
internal static class TensorAssert
{
    public static void Close(Tensor actual, Tensor expected, double rtol = 1e-5, double atol = 1e-6, string? what = null)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        double[] a = ToDoubles(actual), e = ToDoubles(expected);
        for (int i = 0; i < e.Length; i++)
        {
            bool bothNan = double.IsNaN(a[i]) && double.IsNaN(e[i]);
            bool same = a[i].Equals(e[i]) || bothNan;
            if (!same && !(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i])))
                Assert.Fail($"{what}: element {i} is {a[i]:R}, expected {e[i]:R} (rtol {rtol}, atol {atol})");
        }
    }

    public static double[] ToDoubles(Tensor t)
    {
        using var scope = Torch.NewScope();
        return t.To(DType.Float64).ToArray<double>();
    }
}
