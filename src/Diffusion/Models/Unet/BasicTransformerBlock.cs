using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// LDM attention.py BasicTransformerBlock: x += attn1(norm1 x); x += attn2(norm2 x, context); x += ff(norm3 x),
/// with a GEGLU feed-forward of width 4·dim (ff.net.0.proj → dim·8, ff.net.2 → dim).
/// </summary>
public sealed class BasicTransformerBlock : Module
{
    public BasicTransformerBlock(int dim, int contextDim, int heads, int headDim)
    {
        Attn1 = Child("attn1", new CrossAttention(dim, dim, heads, headDim));
        Ff = Child("ff", new FeedForward(dim, 4 * dim));
        Attn2 = Child("attn2", new CrossAttention(dim, contextDim, heads, headDim));
        Norm1 = Child("norm1", new LayerNorm(dim));
        Norm2 = Child("norm2", new LayerNorm(dim));
        Norm3 = Child("norm3", new LayerNorm(dim));
    }

    public CrossAttention Attn1 { get; }
    public FeedForward Ff { get; }
    public CrossAttention Attn2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public LayerNorm Norm3 { get; }

    /// <summary>x [B, N, dim], context [B, M, contextDim]; <paramref name="attn2Patch"/> goes to attn2 (see CrossAttention).</summary>
    public Tensor Forward(Tensor x, Tensor context, Func<Tensor, Tensor, int, Tensor>? attn2Patch = null)
    {
        using var scope = Torch.NewScope();
        x = x + Attn1.Forward(Norm1.Forward(x));
        x = x + Attn2.Forward(Norm2.Forward(x), context, attn2Patch);
        x = x + Ff.Forward(Norm3.Forward(x));
        return x.MoveToOuterScope();
    }
}

/// <summary>LDM FeedForward with GEGLU: (a, gate) = proj(x).chunk(2); net.2(a · gelu(gate)). Keys net.0.proj, net.2.</summary>
public sealed class FeedForward : Module
{
    public FeedForward(int dim, int inner)
    {
        var net = Child("net", new ModuleList());
        net.Add(Geglu = new Geglu(dim, inner)).Add(null).Add(Out = new Linear(inner, dim));
    }

    public Geglu Geglu { get; }
    public Linear Out { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return Out.Forward(Geglu.Forward(x)).MoveToOuterScope();
    }
}

/// <summary>Gated GELU (Shazeer 2020): one projection to 2·inner, the second half gates the first.</summary>
public sealed class Geglu : Module
{
    public Geglu(int dim, int inner) => Proj = Child("proj", new Linear(dim, inner * 2));

    public Linear Proj { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor[] parts = Proj.Forward(x).Chunk(2, -1);
        return (parts[0] * F.Gelu(parts[1])).MoveToOuterScope();
    }
}
