using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>BFL MLPEmbedder: in_layer → SiLU → out_layer (time, guidance and pooled-vector embeddings).</summary>
public sealed class MlpEmbedder : Module
{
    public MlpEmbedder(int inDim, int hidden)
    {
        InLayer = Child("in_layer", new Linear(inDim, hidden));
        OutLayer = Child("out_layer", new Linear(hidden, hidden));
    }

    public Linear InLayer { get; }
    public Linear OutLayer { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return OutLayer.Forward(F.Silu(InLayer.Forward(x))).MoveToOuterScope();
    }
}

/// <summary>RMSNorm with a learned "scale" and eps 1e-6, normalised in float32 (BFL RMSNorm) and cast back.</summary>
public sealed class RmsNorm : Module
{
    public RmsNorm(int dim) => Scale = Param("scale", dim);

    public Parameter Scale { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor xf = x.DType == DType.Float32 ? x : x.To(DType.Float32);
        Tensor normed = xf * (xf.Square().Mean([-1], keepDim: true) + 1e-6).Rsqrt();
        if (normed.DType != x.DType) normed = normed.To(x.DType);
        return (normed * Scale.Value).MoveToOuterScope();
    }
}

/// <summary>BFL QKNorm: separate RMSNorms for queries and keys, per head.</summary>
public sealed class QkNorm : Module
{
    public QkNorm(int headDim)
    {
        QueryNorm = Child("query_norm", new RmsNorm(headDim));
        KeyNorm = Child("key_norm", new RmsNorm(headDim));
    }

    public RmsNorm QueryNorm { get; }
    public RmsNorm KeyNorm { get; }
}

/// <summary>One (shift, scale, gate) triple of adaptive layer-norm modulation, each [B, 1, C].</summary>
public readonly record struct ModulationOut(Tensor Shift, Tensor Scale, Tensor Gate)
{
    /// <summary>LN(x)·(1 + scale) + shift, LayerNorm without affine parameters and eps 1e-6.</summary>
    public Tensor Modulate(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor normed = F.LayerNorm(x, [x.Size(-1)], eps: 1e-6);
        return (normed * (Scale + 1.0) + Shift).MoveToOuterScope();
    }
}

/// <summary>BFL Modulation: lin(SiLU(vec)) split into one (double = false) or two (shift, scale, gate) triples.</summary>
public sealed class Modulation : Module
{
    private readonly int _multiplier;

    public Modulation(int hidden, bool isDouble)
    {
        _multiplier = isDouble ? 6 : 3;
        Lin = Child("lin", new Linear(hidden, _multiplier * hidden));
    }

    public Linear Lin { get; }

    /// <summary>The triples for vec [B, C]; the tensors belong to the caller's scope.</summary>
    public ModulationOut[] Forward(Tensor vec)
    {
        Tensor[] parts;
        using (var scope = Torch.NewScope())
        {
            Tensor m = Lin.Forward(F.Silu(vec)).Unsqueeze(1);
            parts = m.Chunk(_multiplier, -1);
            foreach (Tensor p in parts) p.MoveToOuterScope();
        }
        var result = new ModulationOut[_multiplier / 3];
        for (int i = 0; i < result.Length; i++) result[i] = new ModulationOut(parts[3 * i], parts[3 * i + 1], parts[3 * i + 2]);
        return result;
    }
}

/// <summary>ComfyUI's float16 guard in the FLUX blocks: NaN → 0 and ±inf → ±65504 (torch.nan_to_num), other dtypes untouched.</summary>
public static class HalfScrub
{
    public const double HalfMax = 65504;

    /// <summary>A new handle in the caller's scope: x itself (aliased) unless it is float16.</summary>
    public static Tensor Apply(Tensor x)
    {
        if (x.DType != DType.Float16) return x.Alias();
        using var scope = Torch.NewScope();
        // where() rather than clamp(), which libtorch 1.13 lacks for float16 on the CPU
        Tensor y = x.IsNan().Where(Torch.ZerosLike(x), x);
        Tensor limit = y.Gt(0).Where(Torch.FullLike(x, HalfMax), Torch.FullLike(x, -HalfMax));
        return y.IsFinite().Where(y, limit).MoveToOuterScope();
    }
}
