using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// The attention of both block kinds (BFL math.attention): RoPE on q and k, then softmax(QKᵀ/√d)V over the joint
/// sequence, heads merged back to [B, L, H·D].
/// </summary>
public static class FluxAttention
{
    public static Tensor Compute(Tensor q, Tensor k, Tensor v, Tensor cos, Tensor sin)
    {
        using var scope = Torch.NewScope();
        Tensor o = ChunkedAttention.Compute(FluxRope.Apply(q, cos, sin), FluxRope.Apply(k, cos, sin), v);
        return o.Transpose(1, 2).Reshape(o.Size(0), o.Size(2), -1).MoveToOuterScope();
    }

    /// <summary>
    /// Splits a fused qkv [B, L, 3·H·D] into q, k, v [B, H, L, D] and applies the per-head QK RMSNorm; the three
    /// tensors belong to the caller's scope.
    /// </summary>
    public static (Tensor Q, Tensor K, Tensor V) SplitHeads(Tensor qkv, int heads, QkNorm norm)
    {
        long b = qkv.Size(0), l = qkv.Size(1);
        using var scope = Torch.NewScope();
        Tensor t = qkv.Reshape(b, l, 3, heads, -1).Permute(2, 0, 3, 1, 4);
        Tensor q = norm.QueryNorm.Forward(t.Select(0, 0));
        Tensor k = norm.KeyNorm.Forward(t.Select(0, 1));
        Tensor v = t.Select(0, 2);
        if (q.DType != v.DType) q = q.To(v.DType);
        if (k.DType != v.DType) k = k.To(v.DType);
        return (q.MoveToOuterScope(), k.MoveToOuterScope(), v.MoveToOuterScope());
    }
}

/// <summary>BFL SelfAttention as used by the double block: qkv, per-head QK norm, output projection.</summary>
public sealed class FluxSelfAttention : Module
{
    public FluxSelfAttention(int hidden, int headDim, bool qkvBias)
    {
        Qkv = Child("qkv", new Linear(hidden, 3 * hidden, qkvBias));
        Norm = Child("norm", new QkNorm(headDim));
        Proj = Child("proj", new Linear(hidden, hidden));
    }

    public Linear Qkv { get; }
    public QkNorm Norm { get; }
    public Linear Proj { get; }
}
