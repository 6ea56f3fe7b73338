using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>
/// One perceiver cross-attention of the IP-Adapter Resampler (keys "norm1", "norm2", "to_q", "to_kv", "to_out", no biases):
/// queries from the latents, keys and values over the image tokens and the latents together.
/// </summary>
public sealed class PerceiverAttention : Module
{
    private readonly int _heads;

    public PerceiverAttention(int dim, int inner)
    {
        _heads = Resampler.HeadsFor(inner);
        Norm1 = Child("norm1", new LayerNorm(dim));
        Norm2 = Child("norm2", new LayerNorm(dim));
        ToQ = Child("to_q", new Linear(dim, inner, bias: false));
        ToKv = Child("to_kv", new Linear(dim, inner * 2, bias: false));
        ToOut = Child("to_out", new Linear(inner, dim, bias: false));
    }

    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public Linear ToQ { get; }
    public Linear ToKv { get; }
    public Linear ToOut { get; }

    /// <param name="x">Image tokens [B, N, dim].</param>
    /// <param name="latents">Queries [B, L, dim].</param>
    public Tensor Forward(Tensor x, Tensor latents)
    {
        using var scope = Torch.NewScope();
        x = Norm1.Forward(x);
        latents = Norm2.Forward(latents);
        long b = latents.Size(0), l = latents.Size(1);
        Tensor q = ToQ.Forward(latents);
        Tensor[] kv = ToKv.Forward(Torch.Cat([x, latents], 1)).Chunk(2, -1);
        Tensor Heads(Tensor t) => t.Reshape(b, t.Size(1), _heads, -1).Transpose(1, 2);
        // (q·s)(k·s)ᵀ with s = d^(−1/4) is qkᵀ/√d; the scores are taken in float32 as the reference does.
        Tensor o = F.ScaledDotProductAttention(Heads(q).To(DType.Float32), Heads(kv[0]).To(DType.Float32), Heads(kv[1]).To(DType.Float32));
        o = o.To(q.DType).Transpose(1, 2).Reshape(b, l, -1);
        return ToOut.Forward(o).MoveToOuterScope();
    }
}

/// <summary>LayerNorm → Linear (no bias) → exact GELU → Linear (no bias), keys "0", "1", "3".</summary>
public sealed class PerceiverFeedForward : Module
{
    public PerceiverFeedForward(int dim, int hidden)
    {
        Norm = Child("0", new LayerNorm(dim));
        Up = Child("1", new Linear(dim, hidden, bias: false));
        Down = Child("3", new Linear(hidden, dim, bias: false));
    }

    public LayerNorm Norm { get; }
    public Linear Up { get; }
    public Linear Down { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return Down.Forward(F.Gelu(Up.Forward(Norm.Forward(x)))).MoveToOuterScope();
    }
}

/// <summary>
/// The perceiver stack shared by the plus Resampler and FaceID plus (keys "proj_in", "layers.i.{0,1}", "proj_out",
/// "norm_out"): x = proj_in(image tokens); per layer L += attn(x, L), L += ff(L); output LN(proj_out(L)).
/// </summary>
public class PerceiverStack : Module
{
    private readonly (PerceiverAttention Attn, PerceiverFeedForward Ff)[] _layers;

    public PerceiverStack(int embeddingDim, int dim, int inner, int ffHidden, int outputDim, int depth)
    {
        ProjIn = Child("proj_in", new Linear(embeddingDim, dim));
        ProjOut = Child("proj_out", new Linear(dim, outputDim));
        NormOut = Child("norm_out", new LayerNorm(outputDim));
        var layers = Child("layers", new ModuleList());
        _layers = new (PerceiverAttention, PerceiverFeedForward)[depth];
        for (int i = 0; i < depth; i++)
        {
            _layers[i] = (new PerceiverAttention(dim, inner), new PerceiverFeedForward(dim, ffHidden));
            layers.Add(new ModuleList().Add(_layers[i].Attn).Add(_layers[i].Ff));
        }
    }

    public Linear ProjIn { get; }
    public Linear ProjOut { get; }
    public LayerNorm NormOut { get; }

    protected Tensor Run(Tensor image, Tensor latents)
    {
        using var scope = Torch.NewScope();
        Tensor x = ProjIn.Forward(image);
        foreach (var (attn, ff) in _layers)
        {
            latents = attn.Forward(x, latents) + latents;
            latents = ff.Forward(latents) + latents;
        }
        return NormOut.Forward(ProjOut.Forward(latents)).MoveToOuterScope();
    }
}

/// <summary>
/// The plus / plus-face image projection (IP-Adapter's Resampler, "image_proj.*"): learned latents [1, T, dim] read the
/// CLIP penultimate states through 4 perceiver layers; T tokens of the UNet's context width come out.
/// </summary>
public sealed class Resampler : PerceiverStack, IImageProjection
{
    public Resampler(int embeddingDim, int dim, int inner, int ffHidden, int outputDim, int depth, int tokens)
        : base(embeddingDim, dim, inner, ffHidden, outputDim, depth) =>
        Latents = Param("latents", 1, tokens, dim);

    public Parameter Latents { get; }

    public ImageInput Input => ImageInput.PenultimateHiddenStates;

    /// <summary>Released adapters use 64-wide heads; test adapters narrower than 64 use 16-wide heads.</summary>
    public static int HeadsFor(int inner) => inner >= 64 && inner % 64 == 0 ? inner / 64 : Math.Max(1, inner / 16);

    public Tensor Project(Tensor embeds, Tensor? faceImage = null, double? shortcutScale = null)
    {
        using var scope = Torch.NewScope();
        Tensor latents = Latents.Value.Expand(embeds.Size(0), Latents.Shape[1], Latents.Shape[2]);
        return Run(embeds.To(Latents.Value.DType), latents).MoveToOuterScope();
    }
}
