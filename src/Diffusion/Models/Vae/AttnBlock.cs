using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// LDM model.py AttnBlock: single-head self-attention over the H·W positions, with 1×1-convolution q, k, v and
/// proj_out, plus the input.
/// </summary>
public sealed class AttnBlock : Module
{
    public AttnBlock(int channels)
    {
        Norm = Child("norm", new GroupNorm(32, channels, eps: 1e-6));
        Q = Child("q", new Conv2d(channels, channels, 1));
        K = Child("k", new Conv2d(channels, channels, 1));
        V = Child("v", new Conv2d(channels, channels, 1));
        ProjOut = Child("proj_out", new Conv2d(channels, channels, 1));
    }

    public GroupNorm Norm { get; }
    public Conv2d Q { get; }
    public Conv2d K { get; }
    public Conv2d V { get; }
    public Conv2d ProjOut { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        long b = x.Size(0), c = x.Size(1), h = x.Size(2), w = x.Size(3);
        Tensor n = Norm.Forward(x);
        // [B, C, H, W] → [B, 1 head, H·W tokens, C]
        Tensor Tokens(Tensor t) => t.Reshape(b, 1, c, h * w).Transpose(2, 3);
        Tensor o = ChunkedAttention.Compute(Tokens(Q.Forward(n)), Tokens(K.Forward(n)), Tokens(V.Forward(n)));
        o = o.Transpose(2, 3).Reshape(b, c, h, w);
        return (x + ProjOut.Forward(o)).MoveToOuterScope();
    }
}
