namespace CharacterGen.Tensors.Tests;

/// <summary>
/// torch.autograd.gradcheck in miniature: the backward pass of f against central finite differences in float64, for a
/// random projection ⟨w, f(inputs)⟩ so every output element contributes.
/// </summary>
internal static class GradientCheck
{
    private const double Step = 1e-6;

    public static void Check(string what, Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        using var scope = Torch.NewScope();
        Tensor[] leaves = inputs.Select(i => i.To(DType.Float64).Clone()).ToArray();
        foreach (Tensor l in leaves) l.RequiresGrad = true;
        Tensor output = f(leaves);
        Tensor projection = Torch.Randn(output.Shape, 1234UL, DType.Float64);
        (output * projection).Sum().Backward();

        for (int k = 0; k < inputs.Length; k++)
        {
            double[] analytic = leaves[k].Grad!.ToArray<double>();
            double[] values = leaves[k].Detach().ToArray<double>();
            long[] shape = leaves[k].Shape;
            for (int j = 0; j < values.Length; j++)
            {
                double Projected(double delta)
                {
                    using var inner = Torch.NewScope();
                    using var noGrad = Autograd.NoGrad();
                    double[] moved = (double[])values.Clone();
                    moved[j] += delta;
                    Tensor[] args = leaves.Select((l, i) => i == k ? Torch.FromArray<double>(moved, shape) : l.Detach()).ToArray();
                    return (f(args) * projection).Sum().Item();
                }
                double numeric = (Projected(Step) - Projected(-Step)) / (2 * Step);
                Assert.That(analytic[j], Is.EqualTo(numeric).Within(1e-6 + 1e-5 * Math.Abs(numeric)),
                    $"{what}: d/d input {k}[{j}]");
            }
        }
    }

    public static Tensor Randn(ulong seed, params long[] shape) => Torch.Randn(shape, seed, DType.Float64);
}
