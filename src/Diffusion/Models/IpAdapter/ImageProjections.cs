using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.IpAdapter;

/// <summary>Which encoder output an adapter's projection reads.</summary>
public enum ImageInput
{
    /// <summary>CLIP image_embeds [N, P] (base, light, vit-G).</summary>
    ImageEmbeds,

    /// <summary>CLIP penultimate states [N, T, D] (plus, plus-face, full-face).</summary>
    PenultimateHiddenStates,

    /// <summary>ArcFace's 512-d identity [N, 512] (FaceID, portrait).</summary>
    FaceEmbedding,

    /// <summary>ArcFace identity plus the aligned face's CLIP penultimate states (FaceID plus / plus v2).</summary>
    FaceEmbeddingAndPenultimate,
}

/// <summary>"image_proj.*": turns encoder outputs into IP tokens [N, T, ctx].</summary>
public interface IImageProjection
{
    ImageInput Input { get; }

    /// <param name="embeds">The <see cref="Input"/> tensor (for FaceID plus: the face identity).</param>
    /// <param name="faceImage">FaceID plus only: the aligned face's penultimate states.</param>
    /// <param name="shortcutScale">FaceID plus v2 only: out = x + scale·perceiver(x); null: the plain perceiver output.</param>
    Tensor Project(Tensor embeds, Tensor? faceImage = null, double? shortcutScale = null);
}

/// <summary>Base adapters (ImageProjModel): LN(reshape(proj(e), [T, ctx])), keys "proj", "norm".</summary>
public sealed class ImageProjModel : Module, IImageProjection
{
    private readonly int _tokens, _ctx;

    public ImageProjModel(int embeddingDim, int ctx, int tokens)
    {
        (_tokens, _ctx) = (tokens, ctx);
        Proj = Child("proj", new Linear(embeddingDim, tokens * ctx));
        Norm = Child("norm", new LayerNorm(ctx));
    }

    public Linear Proj { get; }
    public LayerNorm Norm { get; }
    public ImageInput Input => ImageInput.ImageEmbeds;

    public Tensor Project(Tensor embeds, Tensor? faceImage = null, double? shortcutScale = null)
    {
        using var scope = Torch.NewScope();
        return Norm.Forward(Proj.Forward(embeds.To(Proj.Weight.Value.DType)).Reshape(-1, _tokens, _ctx)).MoveToOuterScope();
    }
}

/// <summary>Full-face adapters (MLPProjModel): LN(Linear(GELU(Linear(h)))) on every CLIP token, keys "proj.0/2/3".</summary>
public sealed class MlpProjModel : Module, IImageProjection
{
    public MlpProjModel(int embeddingDim, int ctx)
    {
        var proj = Child("proj", new ModuleList());
        proj.Add(Fc1 = new Linear(embeddingDim, embeddingDim)).Add(null).Add(Fc2 = new Linear(embeddingDim, ctx)).Add(Norm = new LayerNorm(ctx));
    }

    public Linear Fc1 { get; }
    public Linear Fc2 { get; }
    public LayerNorm Norm { get; }
    public ImageInput Input => ImageInput.PenultimateHiddenStates;

    public Tensor Project(Tensor embeds, Tensor? faceImage = null, double? shortcutScale = null)
    {
        using var scope = Torch.NewScope();
        return Norm.Forward(Fc2.Forward(F.Gelu(Fc1.Forward(embeds.To(Fc1.Weight.Value.DType))))).MoveToOuterScope();
    }
}

/// <summary>FaceID and portrait adapters (MLPProjModelFaceId): LN(reshape(Linear(GELU(Linear(id))), [T, ctx])).</summary>
public sealed class FaceIdProjModel : Module, IImageProjection
{
    private readonly int _tokens, _ctx;

    public FaceIdProjModel(int idDim, int hidden, int ctx, int tokens)
    {
        (_tokens, _ctx) = (tokens, ctx);
        var proj = Child("proj", new ModuleList());
        proj.Add(Fc1 = new Linear(idDim, hidden)).Add(null).Add(Fc2 = new Linear(hidden, tokens * ctx));
        Norm = Child("norm", new LayerNorm(ctx));
    }

    public Linear Fc1 { get; }
    public Linear Fc2 { get; }
    public LayerNorm Norm { get; }
    public ImageInput Input => ImageInput.FaceEmbedding;

    public Tensor Identity(Tensor id)
    {
        using var scope = Torch.NewScope();
        Tensor x = Fc2.Forward(F.Gelu(Fc1.Forward(id.To(Fc1.Weight.Value.DType))));
        return Norm.Forward(x.Reshape(-1, _tokens, _ctx)).MoveToOuterScope();
    }

    public Tensor Project(Tensor embeds, Tensor? faceImage = null, double? shortcutScale = null) => Identity(embeds);
}

/// <summary>
/// FaceID plus / plus v2 (ProjModelFaceIdPlus): the FaceID tokens are the latents of a perceiver
/// ("perceiver_resampler.*") over the aligned face's CLIP penultimate states; v2 adds them back: x + s·out.
/// </summary>
public sealed class FaceIdPlusProjModel : Module, IImageProjection
{
    public FaceIdPlusProjModel(int idDim, int hidden, int ctx, int tokens, int clipDim, int inner)
    {
        var proj = Child("proj", new ModuleList());
        proj.Add(Fc1 = new Linear(idDim, hidden)).Add(null).Add(Fc2 = new Linear(hidden, tokens * ctx));
        Norm = Child("norm", new LayerNorm(ctx));
        Perceiver = Child("perceiver_resampler", new FacePerceiver(clipDim, ctx, inner));
        (Tokens, Ctx) = (tokens, ctx);
    }

    private int Tokens { get; }
    private int Ctx { get; }
    public Linear Fc1 { get; }
    public Linear Fc2 { get; }
    public LayerNorm Norm { get; }
    public FacePerceiver Perceiver { get; }
    public ImageInput Input => ImageInput.FaceEmbeddingAndPenultimate;

    public Tensor Project(Tensor embeds, Tensor? faceImage = null, double? shortcutScale = null)
    {
        if (faceImage is null) throw new ArgumentException("a FaceID plus adapter needs the aligned face's CLIP states", nameof(faceImage));
        using var scope = Torch.NewScope();
        Tensor x = Fc2.Forward(F.Gelu(Fc1.Forward(embeds.To(Fc1.Weight.Value.DType))));
        x = Norm.Forward(x.Reshape(-1, Tokens, Ctx));
        Tensor o = Perceiver.Forward(x, faceImage.To(x.DType));
        if (shortcutScale is double s) o = x + o * s;
        return o.MoveToOuterScope();
    }
}

/// <summary>FacePerceiverResampler: the perceiver stack with the FaceID tokens as its latents (4 layers, ff ×4).</summary>
public sealed class FacePerceiver(int clipDim, int ctx, int inner) : PerceiverStack(clipDim, ctx, inner, ctx * 4, ctx, 4)
{
    public Tensor Forward(Tensor latents, Tensor image) => Run(image, latents);
}
