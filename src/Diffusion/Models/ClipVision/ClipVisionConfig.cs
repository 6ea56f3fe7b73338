using CharacterGen.Diffusion.Models.Clip;

namespace CharacterGen.Diffusion.Models.ClipVision;

/// <summary>
/// Hyper-parameters of a CLIP image tower (names as HF CLIPVisionConfig) and the family they identify. Detected from the
/// weights as ComfyUI's clip_vision.load does: 48 layers → ViT-bigG/14, 32 → ViT-H/14, 24 at width 1024 → ViT-L/14.
/// </summary>
public sealed record ClipVisionConfig
{
    public required string Family { get; init; }
    public int HiddenSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int IntermediateSize { get; init; }
    public int PatchSize { get; init; } = 14;
    public int ImageSize { get; init; } = 224;

    /// <summary>Width of image_embeds (visual_projection's output).</summary>
    public int ProjectionDim { get; init; }

    /// <summary>"gelu" (exact; OpenCLIP H and bigG) or "quick_gelu" (OpenAI ViT-L).</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Tokens per image: one per patch plus the class token (257 at 224 px).</summary>
    public int Positions => (ImageSize / PatchSize) * (ImageSize / PatchSize) + 1;

    /// <summary>The layer settings the shared CLIP encoder layer takes.</summary>
    internal ClipTextConfig LayerConfig => new()
    {
        HiddenSize = HiddenSize, NumAttentionHeads = NumAttentionHeads, IntermediateSize = IntermediateSize,
        NumHiddenLayers = NumHiddenLayers, HiddenAct = HiddenAct,
    };

    public const string Prefix = "vision_model.";

    /// <summary>True when the names look like an HF CLIP vision tower.</summary>
    public static bool Matches(IReadOnlyDictionary<string, long[]> shapes) =>
        shapes.ContainsKey(Prefix + "embeddings.patch_embedding.weight") && shapes.ContainsKey("visual_projection.weight");

    public static ClipVisionConfig Detect(IReadOnlyDictionary<string, long[]> shapes)
    {
        long[] patch = Require(shapes, Prefix + "embeddings.patch_embedding.weight");
        long[] positions = Require(shapes, Prefix + "embeddings.position_embedding.weight");
        int layers = 0;
        while (shapes.ContainsKey($"{Prefix}encoder.layers.{layers}.layer_norm1.weight")) layers++;
        if (layers < 2) throw new InvalidDataException($"a CLIP vision tower needs at least 2 layers, found {layers}");
        int hidden = (int)patch[0], patchSize = (int)patch[2];
        int side = (int)Math.Round(Math.Sqrt(positions[0] - 1));
        if (side * side + 1 != positions[0]) throw new InvalidDataException($"{positions[0]} position embeddings are not a square grid plus the class token");
        string family = (layers, hidden) switch
        {
            (48, 1664) => "ViT-bigG/14",
            (32, 1280) => "ViT-H/14",
            (24, 1024) => side == 24 ? "ViT-L/14-336" : "ViT-L/14",
            _ => $"CLIP vision ({layers} layers, width {hidden})",
        };
        return new ClipVisionConfig
        {
            Family = family,
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            // Every released tower has 16 heads; narrower test towers use 16-wide heads.
            NumAttentionHeads = hidden >= 1024 ? 16 : Math.Max(1, hidden / 16),
            IntermediateSize = (int)Require(shapes, Prefix + "encoder.layers.0.mlp.fc1.weight")[0],
            PatchSize = patchSize,
            ImageSize = side * patchSize,
            ProjectionDim = (int)Require(shapes, "visual_projection.weight")[0],
            HiddenAct = layers == 24 && hidden == 1024 ? "quick_gelu" : "gelu",
        };
    }

    private static long[] Require(IReadOnlyDictionary<string, long[]> shapes, string key) =>
        shapes.TryGetValue(key, out long[]? s) ? s : throw new InvalidDataException($"CLIP vision weight '{key}' is missing");
}
