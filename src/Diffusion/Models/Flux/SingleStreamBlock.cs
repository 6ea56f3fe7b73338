using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// BFL SingleStreamBlock over the joint sequence: one modulation, linear1 computes q, k, v and the MLP input in
/// parallel, linear2 maps [attention; GELU(mlp)] back; one gated residual.
/// </summary>
public sealed class SingleStreamBlock : Module
{
    private readonly int _heads, _hidden, _mlpHidden;

    public SingleStreamBlock(FluxConfig config)
    {
        _heads = config.Heads;
        _hidden = config.Hidden;
        _mlpHidden = config.MlpHidden;
        Linear1 = Child("linear1", new Linear(config.Hidden, 3 * config.Hidden + config.MlpHidden));
        Linear2 = Child("linear2", new Linear(config.Hidden + config.MlpHidden, config.Hidden));
        Norm = Child("norm", new QkNorm(config.HeadDim));
        Modulation = Child("modulation", new Modulation(config.Hidden, isDouble: false));
    }

    public Linear Linear1 { get; }
    public Linear Linear2 { get; }
    public QkNorm Norm { get; }
    public Modulation Modulation { get; }

    public Tensor Forward(Tensor x, Tensor vec, Tensor cos, Tensor sin)
    {
        using var scope = Torch.NewScope();
        ModulationOut mod = Modulation.Forward(vec)[0];
        Tensor[] parts = Linear1.Forward(mod.Modulate(x)).Split([3L * _hidden, _mlpHidden], -1);
        var (q, k, v) = FluxAttention.SplitHeads(parts[0], _heads, Norm);
        Tensor attn = FluxAttention.Compute(q, k, v, cos, sin);
        Tensor output = Linear2.Forward(Torch.Cat([attn, F.Gelu(parts[1], tanhApproximation: true)], 2));
        return HalfScrub.Apply(x + mod.Gate * output).MoveToOuterScope();
    }
}
