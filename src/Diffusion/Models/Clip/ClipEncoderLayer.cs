using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Clip;

/// <summary>
/// Pre-norm transformer layer of CLIP (HF CLIPEncoderLayer): x += attn(ln1 x); x += mlp(ln2 x). The text tower attends
/// causally, the vision tower (<paramref name="causal"/> false) over every token.
/// </summary>
public sealed class ClipEncoderLayer : Module
{
    public ClipEncoderLayer(ClipTextConfig c, bool causal = true)
    {
        SelfAttn = Child("self_attn", new ClipAttention(c.HiddenSize, c.NumAttentionHeads, causal));
        LayerNorm1 = Child("layer_norm1", new LayerNorm(c.HiddenSize));
        Mlp = Child("mlp", new ClipMlp(c.HiddenSize, c.IntermediateSize, c.HiddenAct));
        LayerNorm2 = Child("layer_norm2", new LayerNorm(c.HiddenSize));
    }

    public ClipAttention SelfAttn { get; }
    public LayerNorm LayerNorm1 { get; }
    public ClipMlp Mlp { get; }
    public LayerNorm LayerNorm2 { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        x = x + SelfAttn.Forward(LayerNorm1.Forward(x));
        x = x + Mlp.Forward(LayerNorm2.Forward(x));
        return x.MoveToOuterScope();
    }
}

/// <summary>Multi-head self-attention with biased q/k/v/out projections (HF CLIPAttention), causal for text.</summary>
public sealed class ClipAttention : Module
{
    private readonly int _heads;
    private readonly bool _causal;

    public ClipAttention(int dim, int heads, bool causal = true)
    {
        _heads = heads;
        _causal = causal;
        QProj = Child("q_proj", new Linear(dim, dim));
        KProj = Child("k_proj", new Linear(dim, dim));
        VProj = Child("v_proj", new Linear(dim, dim));
        OutProj = Child("out_proj", new Linear(dim, dim));
    }

    public Linear QProj { get; }
    public Linear KProj { get; }
    public Linear VProj { get; }
    public Linear OutProj { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        long b = x.Size(0), n = x.Size(1), d = x.Size(2);
        Tensor Heads(Tensor t) => t.Reshape(b, n, _heads, d / _heads).Transpose(1, 2);
        Tensor o = F.ScaledDotProductAttention(Heads(QProj.Forward(x)), Heads(KProj.Forward(x)), Heads(VProj.Forward(x)), causal: _causal);
        return OutProj.Forward(o.Transpose(1, 2).Reshape(b, n, d)).MoveToOuterScope();
    }
}

/// <summary>fc2(act(fc1 x)), act = quick_gelu (x·σ(1.702x)) for OpenAI CLIP, exact gelu for OpenCLIP.</summary>
public sealed class ClipMlp : Module
{
    private readonly bool _quickGelu;

    public ClipMlp(int dim, int hidden, string act)
    {
        _quickGelu = act switch
        {
            "quick_gelu" => true,
            "gelu" => false,
            _ => throw new ArgumentException($"unknown CLIP activation '{act}' (expected quick_gelu or gelu)", nameof(act)),
        };
        Fc1 = Child("fc1", new Linear(dim, hidden));
        Fc2 = Child("fc2", new Linear(hidden, dim));
    }

    public Linear Fc1 { get; }
    public Linear Fc2 { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor h = Fc1.Forward(x);
        h = _quickGelu ? h * (h * 1.702).Sigmoid() : F.Gelu(h);
        return Fc2.Forward(h).MoveToOuterScope();
    }
}
