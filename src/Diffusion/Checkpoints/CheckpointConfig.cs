using System.Text.Json;
using System.Text.Json.Serialization;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Everything needed to build a checkpoint's networks. Stored as JSON in the safetensors <c>__metadata__</c> under
/// <see cref="MetadataKey"/> by the checkpoints we create (snake_case names as LDM/HF configs); detected from tensor
/// names and shapes otherwise.
/// </summary>
public sealed record CheckpointConfig
{
    public const string MetadataKey = "charactergen.config";

    /// <summary>"sd1", "sd2" or "sdxl".</summary>
    public string Family { get; init; } = "sd1";
    public PredictionType Prediction { get; init; } = PredictionType.Epsilon;

    /// <summary>
    /// The noise schedule is rescaled to zero terminal SNR (ComfyUI sampling_settings zsnr; SDXL v-prediction checkpoints
    /// that carry a "ztsnr" key beside "v_pred").
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ZeroTerminalSnr { get; init; }
    public UnetConfig? Unet { get; init; }
    /// <summary>The (first) text encoder: SD1 CLIP-L, SD2 OpenCLIP-H, SDXL clip_l.</summary>
    public ClipTextConfig? Clip { get; init; }

    /// <summary>SDXL's second text encoder, OpenCLIP bigG with text_projection ("conditioner.embedders.1.model."); null otherwise.</summary>
    public ClipTextConfig? ClipG { get; init; }
    public VaeConfig? Vae { get; init; }

    [JsonIgnore]
    public ModelFamily ModelFamily => Family switch
    {
        "sd1" => ModelFamily.SD1Checkpoint,
        "sd2" => ModelFamily.SD2Checkpoint,
        "sdxl" => ModelFamily.SDXLCheckpoint,
        _ => ModelFamily.Unknown,
    };

    /// <summary>
    /// ComfyUI's default CLIP layer for the family: SD1 the last (−1), SD2 and SDXL the penultimate (−2; SDXL without the
    /// final layer norm, see <see cref="NormalizeClipHidden"/>).
    /// </summary>
    [JsonIgnore] public int DefaultClipLayer => Family is "sd2" or "sdxl" ? -2 : -1;

    /// <summary>Whether the chosen hidden layer goes through final_layer_norm (ComfyUI layer_norm_hidden_state: SD1/SD2 yes, SDXL no).</summary>
    [JsonIgnore] public bool NormalizeClipHidden => Family != "sdxl";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public static CheckpointConfig FromJson(string json) =>
        JsonSerializer.Deserialize<CheckpointConfig>(json, s_json) ?? throw new JsonException("the configuration is null");

    /// <summary>The configuration stored in a file's metadata, or null if there is none.</summary>
    public static CheckpointConfig? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(MetadataKey, out string? json)) return null;
        try
        {
            return FromJson(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the '{MetadataKey}' metadata is not a valid configuration: {e.Message}", e);
        }
    }

    public bool Equals(CheckpointConfig? other) =>
        other is not null && Family == other.Family && Prediction == other.Prediction
        && ZeroTerminalSnr == other.ZeroTerminalSnr && Equals(Unet, other.Unet)
        && Equals(Clip, other.Clip) && Equals(ClipG, other.ClipG) && Equals(Vae, other.Vae);

    public override int GetHashCode() => HashCode.Combine(Family, Prediction, Unet, Clip, ClipG, Vae);
}
