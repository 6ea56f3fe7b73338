using System.Text.Json.Serialization;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// Hyper-parameters of the LDM KL autoencoder (names as LDM ddconfig). Defaults: the SD1.x/SD2.x/SDXL KL-f8 VAE
/// (4 levels → 8× down-scale, 4 latent channels). No attention outside the middle blocks (attn_resolutions = []).
/// </summary>
public sealed record VaeConfig
{
    public int InChannels { get; init; } = 3;
    public int OutCh { get; init; } = 3;
    public int Ch { get; init; } = 128;
    public int[] ChMult { get; init; } = [1, 2, 4, 4];
    public int NumResBlocks { get; init; } = 2;
    public int ZChannels { get; init; } = 4;
    public int EmbedDim { get; init; } = 4;

    /// <summary>False for VAEs without quant_conv/post_quant_conv (FLUX's ae.safetensors: ch 128, z 16).</summary>
    public bool UseQuantConv { get; init; } = true;

    public static VaeConfig KlF8 { get; } = new();

    /// <summary>Pixels per latent cell along each side: 2^(levels − 1).</summary>
    [JsonIgnore] public int DownscaleFactor => 1 << (ChMult.Length - 1);

    /// <summary>
    /// Reads the configuration from tensor shapes under <paramref name="prefix"/> ("first_stage_model." in a checkpoint,
    /// "" in a VAE file).
    /// </summary>
    public static VaeConfig Detect(IReadOnlyDictionary<string, long[]> shapes, string prefix = "")
    {
        long[] Shape(string key) => shapes.TryGetValue(prefix + key, out long[]? s) ? s
            : throw new InvalidDataException($"VAE weight '{prefix + key}' is missing");
        long[] convIn = Shape("encoder.conv_in.weight");
        int ch = (int)convIn[0];
        var mults = new List<int>();
        while (shapes.ContainsKey($"{prefix}encoder.down.{mults.Count}.block.0.conv1.weight"))
            mults.Add((int)(Shape($"encoder.down.{mults.Count}.block.0.conv1.weight")[0] / ch));
        if (mults.Count == 0) throw new InvalidDataException($"no VAE encoder levels under '{prefix}encoder.down.'");
        int blocks = 0;
        while (shapes.ContainsKey($"{prefix}encoder.down.0.block.{blocks}.conv1.weight")) blocks++;
        return new VaeConfig
        {
            InChannels = (int)convIn[1],
            OutCh = (int)Shape("decoder.conv_out.weight")[0],
            Ch = ch,
            ChMult = [.. mults],
            NumResBlocks = blocks,
            ZChannels = (int)Shape("decoder.conv_in.weight")[1],
            EmbedDim = shapes.ContainsKey(prefix + "post_quant_conv.weight")
                ? (int)Shape("post_quant_conv.weight")[1] : (int)Shape("decoder.conv_in.weight")[1],
            UseQuantConv = shapes.ContainsKey(prefix + "post_quant_conv.weight"),
        };
    }

    public bool Equals(VaeConfig? other) =>
        other is not null && InChannels == other.InChannels && OutCh == other.OutCh && Ch == other.Ch
        && ChMult.SequenceEqual(other.ChMult) && NumResBlocks == other.NumResBlocks && ZChannels == other.ZChannels
        && EmbedDim == other.EmbedDim && UseQuantConv == other.UseQuantConv;

    public override int GetHashCode() => HashCode.Combine(Ch, ChMult.Length, NumResBlocks, ZChannels, EmbedDim);

    public override string ToString() =>
        $"VaeConfig {{ ch {Ch}, ch_mult [{string.Join(",", ChMult)}], num_res_blocks {NumResBlocks}, z {ZChannels}, embed {EmbedDim}{(UseQuantConv ? "" : ", no quant conv")}, in {InChannels}, out {OutCh} }}";
}
