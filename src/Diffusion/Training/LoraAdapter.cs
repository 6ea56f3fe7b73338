using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// A trainable low-rank branch beside a frozen Linear or Conv2d (kohya networks/lora.py LoRAModule):
/// y = layer(x) + up(down(x)) · α/r · multiplier. For a convolution, down has the layer's kernel, stride and padding and
/// up is 1×1, as kohya stores conv LoRA. Down starts Kaiming-uniform (a = √5, torch's Linear default), up at zero, so a
/// new adapter leaves the output unchanged. The base weights are never written and get no gradient.
/// </summary>
public sealed class LoraAdapter : ILayerAdapter, IDisposable
{
    private readonly int _stride, _padding;

    private LoraAdapter(string moduleName, Tensor down, Tensor up, double alpha, bool isConv, int stride, int padding)
    {
        ModuleName = moduleName;
        Down = down.DetachFromScope();
        Up = up.DetachFromScope();
        Down.RequiresGrad = true;
        Up.RequiresGrad = true;
        Alpha = alpha;
        IsConv = isConv;
        _stride = stride;
        _padding = padding;
    }

    /// <summary>The adapted module's LDM name in its network ("input_blocks.1.1.transformer_blocks.0.attn1.to_q").</summary>
    public string ModuleName { get; }

    /// <summary>[r, in] for a Linear, [r, in, k, k] for a Conv2d.</summary>
    public Tensor Down { get; }

    /// <summary>[out, r] for a Linear, [out, r, 1, 1] for a Conv2d.</summary>
    public Tensor Up { get; }

    public double Alpha { get; }
    public long Rank => Down.Size(0);
    public bool IsConv { get; }

    /// <summary>Scales the branch at run time (1 while training).</summary>
    public double Multiplier { get; set; } = 1.0;

    public double Scale => Alpha / Rank;

    public static LoraAdapter ForLinear(string name, Linear layer, int rank, double alpha, Generator generator)
    {
        long outF = layer.Weight.Shape[0], inF = layer.Weight.Shape[1];
        using var scope = Torch.NewScope();
        Device device = layer.Weight.Value.Device;
        return new LoraAdapter(name, KaimingUniform([rank, inF], inF, generator).To(device), Torch.Zeros([outF, rank], device: device), alpha, false, 1, 0);
    }

    public static LoraAdapter ForConv(string name, Conv2d layer, int rank, double alpha, Generator generator)
    {
        long[] w = layer.Weight.Shape; // [out, in, k, k]
        using var scope = Torch.NewScope();
        Device device = layer.Weight.Value.Device;
        return new LoraAdapter(name, KaimingUniform([rank, w[1], w[2], w[3]], w[1] * w[2] * w[3], generator).To(device),
            Torch.Zeros([w[0], rank, 1, 1], device: device), alpha, true, layer.Stride, layer.Padding);
    }

    public Tensor Adapt(Tensor input, Tensor output)
    {
        using var scope = Torch.NewScope();
        Tensor x = input.DType == Down.DType ? input : input.To(Down.DType);
        Tensor branch = IsConv
            ? F.Conv2d(F.Conv2d(x, Down, null, _stride, _padding), Up, null)
            : F.Linear(F.Linear(x, Down, null), Up, null);
        Tensor scaled = branch * (Scale * Multiplier);
        return (output + scaled.To(output.DType)).MoveToOuterScope();
    }

    public void Dispose()
    {
        Down.Dispose();
        Up.Dispose();
    }

    // torch.nn.init.kaiming_uniform_(a=√5): gain √(2/(1+5)), bound = gain·√(3/fan_in) = 1/√fan_in.
    private static Tensor KaimingUniform(long[] shape, long fanIn, Generator generator)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        return Torch.Rand(shape, generator) * (2 * bound) - bound;
    }
}
