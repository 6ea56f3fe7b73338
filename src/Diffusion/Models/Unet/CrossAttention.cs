using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// LDM attention.py CrossAttention: softmax(QKᵀ/√d)V over heads, queries from x, keys and values from the context
/// (or x itself for self-attention). to_q/to_k/to_v have no bias; to_out.0 has.
/// </summary>
public sealed class CrossAttention : Module
{
    private readonly int _heads;

    public CrossAttention(int queryDim, int contextDim, int heads, int headDim)
    {
        _heads = heads;
        int inner = heads * headDim;
        ToQ = Child("to_q", new Linear(queryDim, inner, bias: false));
        ToK = Child("to_k", new Linear(contextDim, inner, bias: false));
        ToV = Child("to_v", new Linear(contextDim, inner, bias: false));
        Child("to_out", new ModuleList()).Add(ToOut = new Linear(inner, queryDim));
    }

    public Linear ToQ { get; }
    public Linear ToK { get; }
    public Linear ToV { get; }
    public Linear ToOut { get; }

    /// <summary>
    /// x [B, N, C], context [B, M, Cc] (null: self-attention) → [B, N, C]. <paramref name="patch"/> (output, q, heads)
    /// replaces the attention output before to_out (IP-Adapter's decoupled attention).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor? context = null, Func<Tensor, Tensor, int, Tensor>? patch = null)
    {
        using var scope = Torch.NewScope();
        Tensor ctx = context ?? x;
        long b = x.Size(0);
        Tensor Heads(Tensor t) => t.Reshape(b, t.Size(1), _heads, -1).Transpose(1, 2);
        Tensor q = ToQ.Forward(x);
        Tensor o = ChunkedAttention.Compute(Heads(q), Heads(ToK.Forward(ctx)), Heads(ToV.Forward(ctx)));
        o = o.Transpose(1, 2).Reshape(b, x.Size(1), -1);
        if (patch is not null) o = patch(o, q, _heads);
        return ToOut.Forward(o).MoveToOuterScope();
    }
}
