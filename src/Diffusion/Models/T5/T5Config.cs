namespace CharacterGen.Diffusion.Models.T5;

/// <summary>
/// A T5 v1.1 encoder's shape (HF T5Config names). Defaults: T5-XXL as FLUX and SD3 use it (vocab 32128, d_model 4096,
/// 64 heads of 64, d_ff 10240, 24 blocks, gated-GELU, 32 relative-position buckets up to distance 128).
/// </summary>
public sealed record T5Config
{
    public int VocabSize { get; init; } = 32128;
    public int DModel { get; init; } = 4096;
    public int Heads { get; init; } = 64;
    public int DKv { get; init; } = 64;
    public int DFf { get; init; } = 10240;
    public int Layers { get; init; } = 24;
    public int RelativeBuckets { get; init; } = 32;
    public int RelativeMaxDistance { get; init; } = 128;
    public double Eps { get; init; } = 1e-6;

    public static T5Config Xxl { get; } = new();

    /// <summary>
    /// Reads the shape from names and shapes under <paramref name="prefix"/> (ComfyUI's T5-XXL vs XL test reads the
    /// last block's wi_1 width): widths from the embedding, q and wi_0, heads from the relative-bias table, depth by
    /// counting blocks. Old non-gated T5 files (DenseReluDense.wi) are refused.
    /// </summary>
    public static T5Config Detect(IReadOnlyDictionary<string, long[]> shapes, string prefix = "")
    {
        long[] Shape(string key) => shapes.TryGetValue(prefix + key, out long[]? s) ? s
            : throw new InvalidDataException($"T5 weight '{prefix + key}' is missing");
        if (shapes.ContainsKey(prefix + "encoder.block.0.layer.1.DenseReluDense.wi.weight"))
            throw new InvalidDataException("this is a T5 v1.0 encoder (ReLU feed-forward); only the gated v1.1 encoders (T5-XXL) are supported");
        int layers = 0;
        while (shapes.ContainsKey($"{prefix}encoder.block.{layers}.layer.0.SelfAttention.q.weight")) layers++;
        long[] bias = Shape("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        long[] q = Shape("encoder.block.0.layer.0.SelfAttention.q.weight");
        long[] shared = Shape("shared.weight");
        int heads = (int)bias[1];
        return new T5Config
        {
            VocabSize = (int)shared[0],
            DModel = (int)shared[1],
            Heads = heads,
            DKv = (int)(q[0] / heads),
            DFf = (int)Shape("encoder.block.0.layer.1.DenseReluDense.wi_0.weight")[0],
            Layers = layers,
            RelativeBuckets = (int)bias[0],
        };
    }
}
