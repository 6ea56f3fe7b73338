using System.Text.Json.Serialization;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>What the UNet predicts (ComfyUI ModelType EPS / V_PREDICTION); the model sampling turns it into x̂₀.</summary>
public enum PredictionType
{
    [JsonStringEnumMemberName("eps")] Epsilon,
    [JsonStringEnumMemberName("v")] VPrediction,
}
