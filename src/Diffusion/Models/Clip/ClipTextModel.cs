using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Clip;

/// <summary>The chosen hidden layer [B, T, D] and the pooled vector [B, D], both float32.</summary>
public readonly record struct ClipTextOutput(Tensor Hidden, Tensor Pooled);

/// <summary>
/// CLIP text transformer (HF CLIPTextModel's text_model; in SD1 checkpoints under
/// "cond_stage_model.transformer.text_model."): token + position embeddings, pre-norm causal layers, final layer norm.
/// </summary>
public sealed class ClipTextModel : Module
{
    public ClipTextModel(ClipTextConfig config)
    {
        Config = config;
        Embeddings = Child("embeddings", new ClipEmbeddings(config));
        Encoder = Child("encoder", new ClipEncoder(config));
        FinalLayerNorm = Child("final_layer_norm", new LayerNorm(config.HiddenSize));
        // HF CLIPTextModelWithProjection keeps it beside text_model; ComfyUI's clip_model.py puts it in the same module.
        if (config.ProjectionDim is int proj) TextProjection = Child("text_projection", new Linear(config.HiddenSize, proj, bias: false));
    }

    public ClipTextConfig Config { get; }
    public ClipEmbeddings Embeddings { get; }
    public ClipEncoder Encoder { get; }
    public LayerNorm FinalLayerNorm { get; }

    /// <summary>Projects the pooled vector when <see cref="ClipTextConfig.ProjectionDim"/> is set (SDXL clip_g), else null.</summary>
    public Linear? TextProjection { get; }

    /// <summary>
    /// Encodes int64 token ids [B, T] (T ≤ MaxPositionEmbeddings). <paramref name="layer"/> is ComfyUI's
    /// CLIPSetLastLayer value: −1 the last layer, −2 the penultimate, …; 0 and up count layers from the first.
    /// <paramref name="normalizeHidden"/> applies final_layer_norm to the chosen layer (ComfyUI SD1/SD2:
    /// layer_norm_hidden_state = true; SDXL: false). The pooled vector is always the final-normed last layer at
    /// <see cref="PooledPositions"/>, projected by text_projection when the model has one.
    /// </summary>
    public ClipTextOutput Forward(Tensor ids, int layer = -1, bool normalizeHidden = true)
    {
        using var scope = Torch.NewScope();
        var r = ForwardEmbeddings(EmbedTokens(ids), PooledPositions(ids), layer, normalizeHidden);
        return new(r.Hidden.MoveToOuterScope(), r.Pooled.MoveToOuterScope());
    }

    /// <summary>Token embedding rows [B, T, D] for ids; splice textual-inversion vectors in before <see cref="ForwardEmbeddings"/>.</summary>
    public Tensor EmbedTokens(Tensor ids) => Embeddings.TokenEmbedding.Forward(ids);

    /// <summary>
    /// Runs the transformer from token embeddings [B, T, D] (position embeddings are added here).
    /// <paramref name="pooledPositions"/> gives, per row, the token whose final state is the pooled output.
    /// </summary>
    public ClipTextOutput ForwardEmbeddings(Tensor tokenEmbeddings, IReadOnlyList<long> pooledPositions, int layer = -1,
        bool normalizeHidden = true)
    {
        int layers = Config.NumHiddenLayers;
        int keep = layer < 0 ? layers + layer : layer;
        if (keep < 0 || keep >= layers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the text encoder has {layers} layers");
        long b = tokenEmbeddings.Size(0), n = tokenEmbeddings.Size(1);
        if (n > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"{n} tokens exceed the {Config.MaxPositionEmbeddings} positions; encode longer prompts in chunks");
        if (pooledPositions.Count != b) throw new ArgumentException($"{pooledPositions.Count} pooled positions for a batch of {b}");

        using var scope = Torch.NewScope();
        Tensor weight = Embeddings.PositionEmbedding.Weight.Value;
        Tensor x = tokenEmbeddings.To(weight.Device, weight.DType) + weight.Narrow(0, 0, n);
        Tensor? chosen = null;
        for (int i = 0; i < layers; i++)
        {
            x = Encoder.Layers[i].Forward(x);
            if (i == keep) chosen = x;
        }
        Tensor last = FinalLayerNorm.Forward(x);
        Tensor hidden = keep == layers - 1 && normalizeHidden ? last
            : normalizeHidden ? FinalLayerNorm.Forward(chosen!) : chosen!;

        long[] rows = new long[b];
        for (int i = 0; i < b; i++) rows[i] = i * n + pooledPositions[i];
        Tensor pooled = last.Reshape(b * n, -1).IndexSelect(0, Torch.FromArray(rows, last.Device));
        if (TextProjection is not null) pooled = TextProjection.Forward(pooled);
        return new(hidden.To(DType.Float32).MoveToOuterScope(), pooled.To(DType.Float32).MoveToOuterScope());
    }

    /// <summary>
    /// Per row, the position of the largest id: the first end-of-text token, since it is the largest id of CLIP's vocabulary
    /// (HF CLIPTextModel, ComfyUI SD1 and SD2).
    /// </summary>
    public static long[] PooledPositions(Tensor ids)
    {
        using var scope = Torch.NewScope();
        return ids.Argmax(1).To(Device.Cpu).To(DType.Int64).ToArray<long>();
    }
}

/// <summary>token_embedding [vocab, D] and position_embedding [positions, D].</summary>
public sealed class ClipEmbeddings : Module
{
    public ClipEmbeddings(ClipTextConfig c)
    {
        TokenEmbedding = Child("token_embedding", new Embedding(c.VocabSize, c.HiddenSize));
        PositionEmbedding = Child("position_embedding", new Embedding(c.MaxPositionEmbeddings, c.HiddenSize));
    }

    public Embedding TokenEmbedding { get; }
    public Embedding PositionEmbedding { get; }
}

/// <summary>The stack of encoder layers ("encoder.layers.N").</summary>
public sealed class ClipEncoder : Module
{
    private readonly ClipEncoderLayer[] _layers;

    public ClipEncoder(ClipTextConfig c)
    {
        var list = Child("layers", new ModuleList());
        _layers = new ClipEncoderLayer[c.NumHiddenLayers];
        for (int i = 0; i < _layers.Length; i++) list.Add(_layers[i] = new ClipEncoderLayer(c));
    }

    public IReadOnlyList<ClipEncoderLayer> Layers => _layers;
}
