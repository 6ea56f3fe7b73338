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

    /// <summary>"sd1" or "sd2".</summary>
    public string Family { get; init; } = "sd1";
    public PredictionType Prediction { get; init; } = PredictionType.Epsilon;
    public UnetConfig? Unet { get; init; }
    public ClipTextConfig? Clip { get; init; }
    public VaeConfig? Vae { get; init; }

    [JsonIgnore]
    public ModelFamily ModelFamily => Family switch
    {
        "sd1" => ModelFamily.SD1Checkpoint,
        "sd2" => ModelFamily.SD2Checkpoint,
        _ => ModelFamily.Unknown,
    };

    /// <summary>ComfyUI's default CLIP layer for the family: SD1 the last (−1), SD2 the penultimate (−2).</summary>
    [JsonIgnore] public int DefaultClipLayer => Family == "sd2" ? -2 : -1;

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
        other is not null && Family == other.Family && Prediction == other.Prediction && Equals(Unet, other.Unet)
        && Equals(Clip, other.Clip) && Equals(Vae, other.Vae);

    public override int GetHashCode() => HashCode.Combine(Family, Prediction, Unet, Clip, Vae);
}
