using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.T5;

/// <summary>T5LayerNorm: x·rsqrt(mean(x²) + eps)·w without mean subtraction or bias, in float32, cast to w's dtype.</summary>
public sealed class T5LayerNorm : Module
{
    private readonly double _eps;

    public T5LayerNorm(int dim, double eps)
    {
        _eps = eps;
        Weight = Param("weight", dim);
    }

    public Parameter Weight { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        Tensor xf = x.DType == DType.Float32 ? x : x.To(DType.Float32);
        Tensor normed = xf * (xf.Square().Mean([-1], keepDim: true) + _eps).Rsqrt();
        if (normed.DType != Weight.Value.DType) normed = normed.To(Weight.Value.DType);
        return (normed * Weight.Value).MoveToOuterScope();
    }
}

/// <summary>T5 self-attention: q, k, v, o without biases, no 1/√d scaling; block 0 owns the relative-bias table.</summary>
public sealed class T5SelfAttention : Module
{
    private readonly T5Config _config;

    public T5SelfAttention(T5Config config, bool hasRelativeBias)
    {
        _config = config;
        int inner = config.Heads * config.DKv;
        Q = Child("q", new Linear(config.DModel, inner, bias: false));
        K = Child("k", new Linear(config.DModel, inner, bias: false));
        V = Child("v", new Linear(config.DModel, inner, bias: false));
        O = Child("o", new Linear(inner, config.DModel, bias: false));
        if (hasRelativeBias) RelativeBias = Child("relative_attention_bias", new Embedding(config.RelativeBuckets, config.Heads));
    }

    public Linear Q { get; }
    public Linear K { get; }
    public Linear V { get; }
    public Linear O { get; }
    public Embedding? RelativeBias { get; }

    /// <summary>The [1, heads, n, n] position bias every layer adds to its logits.</summary>
    public Tensor PositionBias(int n, Device device)
    {
        if (RelativeBias is null) throw new InvalidOperationException("only the first T5 block holds the relative-position table");
        using var scope = Torch.NewScope();
        Tensor buckets = T5RelativePosition.Buckets(n, _config.RelativeBuckets, _config.RelativeMaxDistance, device);
        return RelativeBias.Forward(buckets).Permute(2, 0, 1).Unsqueeze(0).Contiguous().MoveToOuterScope();
    }

    public Tensor Forward(Tensor x, Tensor positionBias)
    {
        using var scope = Torch.NewScope();
        long b = x.Size(0), n = x.Size(1);
        Tensor Heads(Tensor t) => t.Reshape(b, n, _config.Heads, _config.DKv).Transpose(1, 2);
        Tensor bias = positionBias.DType == x.DType ? positionBias : positionBias.To(x.DType);
        Tensor o = F.ScaledDotProductAttention(Heads(Q.Forward(x)), Heads(K.Forward(x)), Heads(V.Forward(x)), bias, scale: 1.0);
        return O.Forward(o.Transpose(1, 2).Reshape(b, n, -1)).MoveToOuterScope();
    }
}

/// <summary>One encoder block: layer.0 = (layer_norm, SelfAttention), layer.1 = (layer_norm, DenseReluDense gated-GELU).</summary>
public sealed class T5Block : Module
{
    public T5Block(T5Config config, bool first)
    {
        var layers = Child("layer", new ModuleList());
        var attn = new T5AttentionLayer(config, first);
        var ff = new T5FeedForwardLayer(config);
        layers.Add(attn).Add(ff);
        Attention = attn;
        FeedForward = ff;
    }

    public T5AttentionLayer Attention { get; }
    public T5FeedForwardLayer FeedForward { get; }

    public Tensor Forward(Tensor x, Tensor positionBias)
    {
        using var scope = Torch.NewScope();
        Tensor h = x + Attention.SelfAttention.Forward(Attention.LayerNorm.Forward(x), positionBias);
        return (h + FeedForward.Forward(FeedForward.LayerNorm.Forward(h))).MoveToOuterScope();
    }
}

public sealed class T5AttentionLayer : Module
{
    public T5AttentionLayer(T5Config config, bool first)
    {
        SelfAttention = Child("SelfAttention", new T5SelfAttention(config, first));
        LayerNorm = Child("layer_norm", new T5LayerNorm(config.DModel, config.Eps));
    }

    public T5SelfAttention SelfAttention { get; }
    public T5LayerNorm LayerNorm { get; }
}

/// <summary>wo(GELU_tanh(wi_0 x) ⊙ wi_1 x), registered as DenseReluDense like HF's T5DenseGatedActDense.</summary>
public sealed class T5FeedForwardLayer : Module
{
    private readonly Linear _wi0, _wi1, _wo;

    public T5FeedForwardLayer(T5Config config)
    {
        var dense = Child("DenseReluDense", new T5Dense());
        _wi0 = dense.Add("wi_0", new Linear(config.DModel, config.DFf, bias: false));
        _wi1 = dense.Add("wi_1", new Linear(config.DModel, config.DFf, bias: false));
        _wo = dense.Add("wo", new Linear(config.DFf, config.DModel, bias: false));
        LayerNorm = Child("layer_norm", new T5LayerNorm(config.DModel, config.Eps));
    }

    public T5LayerNorm LayerNorm { get; }

    public Tensor Forward(Tensor x)
    {
        using var scope = Torch.NewScope();
        return _wo.Forward(F.Gelu(_wi0.Forward(x), tanhApproximation: true) * _wi1.Forward(x)).MoveToOuterScope();
    }

    private sealed class T5Dense : Module
    {
        public Linear Add(string name, Linear layer) => Child(name, layer);
    }
}

/// <summary>
/// The T5 v1.1 encoder (HF T5EncoderModel names: shared, encoder.block.N, encoder.final_layer_norm): token embeddings
/// (unscaled) → blocks sharing block 0's relative-position bias → final RMSNorm. Output: the last hidden state.
/// </summary>
public sealed class T5Encoder : Module
{
    public T5Encoder(T5Config config)
    {
        Config = config;
        Shared = Child("shared", new Embedding(config.VocabSize, config.DModel));
        var encoder = Child("encoder", new T5Stack());
        var blocks = encoder.Add("block", new ModuleList());
        for (int i = 0; i < config.Layers; i++) blocks.Add(new T5Block(config, first: i == 0));
        Blocks = blocks.Items.Cast<T5Block>().ToArray();
        FinalLayerNorm = encoder.Add("final_layer_norm", new T5LayerNorm(config.DModel, config.Eps));
    }

    public T5Config Config { get; }
    public Embedding Shared { get; }
    public IReadOnlyList<T5Block> Blocks { get; }
    public T5LayerNorm FinalLayerNorm { get; }

    /// <summary>int64 ids [B, N] → hidden states [B, N, d_model] in the weights' dtype. No attention mask (as FLUX runs it).</summary>
    public Tensor Forward(Tensor ids)
    {
        using var scope = Torch.NewScope();
        Tensor x = Shared.Forward(ids);
        Tensor bias = Blocks[0].Attention.SelfAttention.PositionBias((int)ids.Size(1), x.Device);
        foreach (T5Block block in Blocks)
        {
            Interrupts.ThrowIfRequested();
            x = block.Forward(x, bias);
        }
        return FinalLayerNorm.Forward(x).MoveToOuterScope();
    }

    private sealed class T5Stack : Module
    {
        public T Add<T>(string name, T module) where T : Module => Child(name, module);
    }
}
