using System.Text.Json.Serialization;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// Hyper-parameters of the LDM UNet (names as LDM openaimodel.py / ComfyUI unet_config). Per-level lists run from the
/// full-resolution level down. Defaults: SD1.x.
/// </summary>
public sealed partial record UnetConfig
{
    public int InChannels { get; init; } = 4;
    public int OutChannels { get; init; } = 4;
    public int ModelChannels { get; init; } = 320;
    public int[] ChannelMult { get; init; } = [1, 2, 4, 4];
    public int NumResBlocks { get; init; } = 2;

    /// <summary>Transformer blocks per SpatialTransformer at each level; 0 = no attention at that level.</summary>
    public int[] TransformerDepth { get; init; } = [1, 1, 1, 0];
    public int TransformerDepthMiddle { get; init; } = 1;
    public int ContextDim { get; init; } = 768;

    /// <summary>Fixed head count (SD1: 8), or −1 when <see cref="NumHeadChannels"/> sets the head width instead.</summary>
    public int NumHeads { get; init; } = 8;

    /// <summary>Fixed head width (SD2/SDXL: 64), or −1.</summary>
    public int NumHeadChannels { get; init; } = -1;

    /// <summary>proj_in/proj_out are Linear (SD2, SDXL) rather than 1×1 convolutions (SD1).</summary>
    public bool UseLinearInTransformer { get; init; }

    /// <summary>
    /// Width of the extra class/ADM vector y added to the time embedding through label_emb (SDXL: 2816 = pooled 1280 +
    /// 6·256 size features; refiner 2560), or null for none (SD1/SD2). openaimodel.py num_classes="sequential".
    /// </summary>
    public int? AdmInChannels { get; init; }

    public static UnetConfig Sd15 { get; } = new();

    public static UnetConfig Sd21 { get; } = new()
    {
        ContextDim = 1024, NumHeads = -1, NumHeadChannels = 64, UseLinearInTransformer = true,
    };

    /// <summary>SDXL base (ComfyUI supported_models.SDXL): 3 levels, attention depth [0, 2, 10] and 10 in the middle.</summary>
    public static UnetConfig Sdxl { get; } = new()
    {
        ChannelMult = [1, 2, 4], TransformerDepth = [0, 2, 10], TransformerDepthMiddle = 10, ContextDim = 2048,
        NumHeads = -1, NumHeadChannels = 64, UseLinearInTransformer = true, AdmInChannels = 2816,
    };

    [JsonIgnore] public int Levels => ChannelMult.Length;

    /// <summary>(heads, head width) of a SpatialTransformer with <paramref name="channels"/> channels.</summary>
    public (int Heads, int HeadDim) AttentionHeads(int channels) =>
        NumHeadChannels > 0 ? (channels / NumHeadChannels, NumHeadChannels) : (NumHeads, channels / NumHeads);

    public void Validate()
    {
        if (ChannelMult.Length == 0 || TransformerDepth.Length != ChannelMult.Length)
            throw new ArgumentException($"channel_mult has {ChannelMult.Length} levels but transformer_depth {TransformerDepth.Length}");
        if (ModelChannels % 32 != 0) throw new ArgumentException($"model_channels {ModelChannels} is not a multiple of 32 (GroupNorm32)");
        if ((NumHeads > 0) == (NumHeadChannels > 0))
            throw new ArgumentException("exactly one of num_heads and num_head_channels must be positive");
        if (AdmInChannels is <= 0) throw new ArgumentException($"adm_in_channels {AdmInChannels} must be positive or absent");
    }

    public bool Equals(UnetConfig? other) =>
        other is not null && InChannels == other.InChannels && OutChannels == other.OutChannels
        && ModelChannels == other.ModelChannels && ChannelMult.SequenceEqual(other.ChannelMult)
        && NumResBlocks == other.NumResBlocks && TransformerDepth.SequenceEqual(other.TransformerDepth)
        && TransformerDepthMiddle == other.TransformerDepthMiddle && ContextDim == other.ContextDim
        && NumHeads == other.NumHeads && NumHeadChannels == other.NumHeadChannels
        && UseLinearInTransformer == other.UseLinearInTransformer && AdmInChannels == other.AdmInChannels;

    public override int GetHashCode() => HashCode.Combine(ModelChannels, ChannelMult.Length, NumResBlocks, ContextDim);

    public override string ToString() =>
        $"UnetConfig {{ in {InChannels}, out {OutChannels}, model_channels {ModelChannels}, channel_mult [{string.Join(",", ChannelMult)}], "
        + $"num_res_blocks {NumResBlocks}, transformer_depth [{string.Join(",", TransformerDepth)}], middle {TransformerDepthMiddle}, "
        + $"context_dim {ContextDim}, num_heads {NumHeads}, num_head_channels {NumHeadChannels}, linear {UseLinearInTransformer}, adm {AdmInChannels?.ToString() ?? "none"} }}";
}
