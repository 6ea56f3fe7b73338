using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;

namespace CharacterGen.Diffusion.RandomWeights;

/// <summary>
/// Widths of a tiny SD1.5-layout test checkpoint. The defaults keep every structural feature of SD1.5 (down- and
/// up-sampling, skip joins, cross-attention, a causal CLIP, a four-level VAE so latents stay width/8) at a size that
/// runs in milliseconds: UNet 32 channels ×[1, 2], one ResBlock and one transformer block per level, 8 heads (SD1's
/// count), context 32; CLIP width 32, 2 layers, 2 heads, MLP 64, 77 positions, the real 49408-token vocabulary (so the
/// real tokenizer works); VAE 32 channels at four levels, one ResnetBlock each, z 4.
/// </summary>
public sealed record TinySizes
{
    public UnetConfig Unet { get; init; } = new()
    {
        ModelChannels = 32, ChannelMult = [1, 2], NumResBlocks = 1, TransformerDepth = [1, 1], TransformerDepthMiddle = 1,
        ContextDim = 32, NumHeads = 8,
    };

    public ClipTextConfig Clip { get; init; } = new()
    {
        HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64,
    };

    public VaeConfig Vae { get; init; } = new() { Ch = 32, ChMult = [1, 1, 1, 1], NumResBlocks = 1 };

    public static TinySizes Default { get; } = new();

    /// <summary>The same sizes with a smaller CLIP vocabulary (ids must then stay below it).</summary>
    public TinySizes WithVocabSize(int vocabSize) => this with { Clip = Clip with { VocabSize = vocabSize } };

    /// <summary>
    /// A tiny SDXL-layout configuration: UNet 64 channels ×[1, 1] with attention only on the second level (depth 2, middle
    /// 2, 64-wide heads as detection assumes), context 32 + 48 = 80 (clip_l ‖ clip_g), ADM 40 + 6·256; clip_l width 32;
    /// clip_g width 48 (3 heads), 2 layers, gelu, projection 48 → 40 (non-square, so a transposed projection would fail).
    /// </summary>
    public static CheckpointConfig SdxlConfig(PredictionType prediction = PredictionType.Epsilon)
    {
        var clipL = Default.Clip;
        var clipG = new ClipTextConfig
        {
            HiddenSize = 48, NumHiddenLayers = 2, NumAttentionHeads = 3, IntermediateSize = 96, HiddenAct = "gelu", ProjectionDim = 40,
        };
        var unet = new UnetConfig
        {
            ModelChannels = 64, ChannelMult = [1, 1], NumResBlocks = 1, TransformerDepth = [0, 2], TransformerDepthMiddle = 2,
            ContextDim = clipL.HiddenSize + clipG.HiddenSize, NumHeads = -1, NumHeadChannels = 64, UseLinearInTransformer = true,
            AdmInChannels = clipG.ProjectionDim!.Value + 6 * 256,
        };
        return new() { Family = "sdxl", Prediction = prediction, Unet = unet, Clip = clipL, ClipG = clipG, Vae = Default.Vae };
    }

    public CheckpointConfig ToConfig(PredictionType prediction = PredictionType.Epsilon) =>
        new() { Family = "sd1", Prediction = prediction, Unet = Unet, Clip = Clip, Vae = Vae };
}
