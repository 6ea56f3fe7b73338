namespace CharacterGen.Diffusion.Models.Clip;

/// <summary>
/// Hyper-parameters of a CLIP text transformer (names as HF CLIPTextConfig). Defaults: OpenAI CLIP ViT-L/14, the SD1.x
/// text encoder.
/// </summary>
public sealed record ClipTextConfig
{
    public int VocabSize { get; init; } = 49408;
    public int MaxPositionEmbeddings { get; init; } = 77;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>"quick_gelu" (x·σ(1.702x), OpenAI CLIP-L) or "gelu" (exact; OpenCLIP ViT-H/bigG).</summary>
    public string HiddenAct { get; init; } = "quick_gelu";

    /// <summary>
    /// Width of text_projection (a bias-free Linear applied to the pooled vector), or null for an unprojected pooled output
    /// (SD1/SDXL clip_l). SDXL's clip_g projects its pooled output (ComfyUI sdxl_clip: 1280 → 1280).
    /// </summary>
    public int? ProjectionDim { get; init; }

    public static ClipTextConfig ClipL { get; } = new();

    /// <summary>OpenCLIP ViT-H/14 text tower, the SD2.x text encoder.</summary>
    public static ClipTextConfig OpenClipH { get; } = new()
    {
        HiddenSize = 1024, NumHiddenLayers = 24, NumAttentionHeads = 16, IntermediateSize = 4096, HiddenAct = "gelu",
    };

    /// <summary>OpenCLIP ViT-bigG/14 text tower with text_projection, SDXL's clip_g.</summary>
    public static ClipTextConfig OpenClipBigG { get; } = new()
    {
        HiddenSize = 1280, NumHiddenLayers = 32, NumAttentionHeads = 20, IntermediateSize = 5120, HiddenAct = "gelu",
        ProjectionDim = 1280,
    };

    /// <summary>
    /// Heads are not visible in the weights. Every released CLIP text tower uses 64-wide heads; widths under 64 occur only
    /// in test checkpoints, which use 16-wide heads.
    /// </summary>
    public static int HeadsFor(int hiddenSize) => hiddenSize >= 64 ? hiddenSize / 64 : Math.Max(1, hiddenSize / 16);

    /// <summary>
    /// Reads the configuration from tensor shapes under <paramref name="prefix"/> (e.g.
    /// "cond_stage_model.transformer.text_model."); the activation is the family's (<paramref name="hiddenAct"/>).
    /// </summary>
    public static ClipTextConfig Detect(IReadOnlyDictionary<string, long[]> shapes, string prefix, string hiddenAct = "quick_gelu")
    {
        long[] tokens = Require(shapes, prefix + "embeddings.token_embedding.weight");
        long[] positions = Require(shapes, prefix + "embeddings.position_embedding.weight");
        int layers = 0;
        while (shapes.ContainsKey($"{prefix}encoder.layers.{layers}.mlp.fc1.weight")) layers++;
        if (layers == 0) throw new InvalidDataException($"no CLIP encoder layers under '{prefix}encoder.layers.'");
        int hidden = (int)tokens[1];
        return new ClipTextConfig
        {
            VocabSize = (int)tokens[0],
            MaxPositionEmbeddings = (int)positions[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = HeadsFor(hidden),
            IntermediateSize = (int)Require(shapes, prefix + "encoder.layers.0.mlp.fc1.weight")[0],
            HiddenAct = hiddenAct,
        };
    }

    private static long[] Require(IReadOnlyDictionary<string, long[]> shapes, string key) =>
        shapes.TryGetValue(key, out long[]? s) ? s : throw new InvalidDataException($"CLIP weight '{key}' is missing");
}
