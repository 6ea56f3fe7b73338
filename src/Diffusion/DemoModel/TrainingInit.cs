using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// Starting weights for training from scratch: N(0, 1/fan-in) for weights, 0 for biases, 1 for norm scales, and (for the
/// UNet) zeros for the last layer of each residual branch and for the output (LDM's zero_module), so every block starts
/// as the identity. Drawn in parameter order from one generator, so a seed fixes them.
/// </summary>
public static class TrainingInit
{
    private static readonly string[] s_zeroed = ["out_layers.3.weight", "proj_out.weight", "out.2.weight"];

    public static void Initialize(Module module, ulong seed, bool zeroResidualOutputs = true)
    {
        using var generator = new Generator(seed);
        foreach (var (name, p) in module.NamedParameters())
        {
            using var scope = Torch.NewScope();
            Tensor value;
            if (p.Shape.Length == 1) value = name.EndsWith("bias", StringComparison.Ordinal) ? Torch.Zeros(p.Shape) : Torch.Ones(p.Shape);
            else if (zeroResidualOutputs && s_zeroed.Any(z => name.EndsWith(z, StringComparison.Ordinal))) value = Torch.Zeros(p.Shape);
            else value = Torch.Randn(p.Shape, generator) / Math.Sqrt(p.Shape.Skip(1).Aggregate(1L, (a, b) => a * b));
            p.Set(value.MoveToOuterScope());
        }
    }
}
