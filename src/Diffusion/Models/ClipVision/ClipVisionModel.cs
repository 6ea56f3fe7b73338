using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.ClipVision;

/// <summary>
/// What CLIPVisionEncode returns (ComfyUI clip_vision.Output): the last layer's states [B, T, D] (no post-LN), the
/// states after layer L−2 [B, T, D] (no post-LN; what plus adapters read) and image_embeds [B, P].
/// </summary>
public sealed record ClipVisionOutput(Tensor LastHiddenState, Tensor PenultimateHiddenStates, Tensor ImageEmbeds) : IDisposable
{
    public void Dispose()
    {
        LastHiddenState.Dispose();
        PenultimateHiddenStates.Dispose();
        ImageEmbeds.Dispose();
    }
}

/// <summary>
/// CLIP's image tower with its projection (HF CLIPVisionModelWithProjection; keys "vision_model.…" and
/// "visual_projection.weight"): patch embedding, class token, positions, pre-LN, pre-norm layers, post-LN on the class
/// token, projection.
/// </summary>
public sealed class ClipVisionModel : Module
{
    private readonly ClipEncoderLayer[] _layers;

    public ClipVisionModel(ClipVisionConfig config)
    {
        Config = config;
        Vision = Child("vision_model", new VisionTransformer(config));
        VisualProjection = Child("visual_projection", new Linear(config.HiddenSize, config.ProjectionDim, bias: false));
        _layers = [.. Vision.Encoder.Layers.Items.Cast<ClipEncoderLayer>()];
    }

    public VisionTransformer Vision { get; }
    public ClipVisionConfig Config { get; }
    public IReadOnlyList<ClipEncoderLayer> Layers => _layers;
    public Linear VisualProjection { get; }

    /// <summary>Preprocessed pixels [B, 3, S, S] (<see cref="ClipVisionPreprocess"/>) → the three outputs, float32.</summary>
    public ClipVisionOutput Forward(Tensor pixels)
    {
        int size = Config.ImageSize;
        if (pixels.Dim != 4 || pixels.Size(1) != 3 || pixels.Size(2) != size || pixels.Size(3) != size)
            throw new ArgumentException($"pixels must be [B, 3, {size}, {size}], got {pixels}");
        using var scope = Torch.NewScope();
        VisionEmbeddings e = Vision.Embeddings;
        Tensor w = e.PatchEmbedding.Weight.Value;
        long b = pixels.Size(0);
        Tensor patches = e.PatchEmbedding.Forward(pixels.To(w.Device, w.DType)).Flatten(2).Transpose(1, 2); // [B, N, D]
        Tensor cls = e.ClassEmbedding.Value.Reshape(1, 1, -1).Expand(b, 1, Config.HiddenSize);
        Tensor x = Torch.Cat([cls, patches], 1) + e.PositionEmbedding.Weight.Value;
        x = Vision.PreLayerNorm.Forward(x);
        Tensor? penultimate = null;
        for (int i = 0; i < _layers.Length; i++)
        {
            x = _layers[i].Forward(x);
            if (i == _layers.Length - 2) penultimate = x;
        }
        Tensor pooled = Vision.PostLayerNorm.Forward(x.Select(1, 0));
        Tensor embeds = VisualProjection.Forward(pooled);
        return new ClipVisionOutput(x.To(DType.Float32).MoveToOuterScope(), penultimate!.To(DType.Float32).MoveToOuterScope(),
            embeds.To(DType.Float32).MoveToOuterScope());
    }
}

/// <summary>"vision_model": embeddings, pre_layrnorm, encoder.layers.N, post_layernorm.</summary>
public sealed class VisionTransformer : Module
{
    public VisionTransformer(ClipVisionConfig config)
    {
        Embeddings = Child("embeddings", new VisionEmbeddings(config));
        PreLayerNorm = Child("pre_layrnorm", new LayerNorm(config.HiddenSize));
        Encoder = Child("encoder", new VisionEncoder(config));
        PostLayerNorm = Child("post_layernorm", new LayerNorm(config.HiddenSize));
    }

    public VisionEmbeddings Embeddings { get; }
    public LayerNorm PreLayerNorm { get; }
    public VisionEncoder Encoder { get; }
    public LayerNorm PostLayerNorm { get; }
}

/// <summary>class_embedding [D], patch_embedding (a bias-free patch-sized stride convolution), position_embedding.</summary>
public sealed class VisionEmbeddings : Module
{
    public VisionEmbeddings(ClipVisionConfig config)
    {
        ClassEmbedding = Param("class_embedding", config.HiddenSize);
        PatchEmbedding = Child("patch_embedding", new Conv2d(3, config.HiddenSize, config.PatchSize, stride: config.PatchSize, bias: false));
        PositionEmbedding = Child("position_embedding", new Embedding(config.Positions, config.HiddenSize));
    }

    public Parameter ClassEmbedding { get; }
    public Conv2d PatchEmbedding { get; }
    public Embedding PositionEmbedding { get; }
}

/// <summary>"encoder.layers.N": CLIP layers attending over every token.</summary>
public sealed class VisionEncoder : Module
{
    public VisionEncoder(ClipVisionConfig config)
    {
        Layers = Child("layers", new ModuleList());
        for (int i = 0; i < config.NumHiddenLayers; i++) Layers.Add(new ClipEncoderLayer(config.LayerConfig, causal: false));
    }

    public ModuleList Layers { get; }
}
