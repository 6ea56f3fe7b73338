using CharacterGen.Tensors.Optim;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// Everything that decides a LoRA training run's numbers. Two runs with equal options, base model and dataset give
/// bit-identical results on the CPU; <see cref="Fingerprint"/> names that identity for resumable checkpoints.
/// Defaults follow ComfyUI's TrainLoraNode (rank 8, lr 5e-4, AdamW with torch defaults) with kohya's loss
/// (uniform ε-MSE) and alpha = rank (scale 1).
/// </summary>
public sealed record LoraTrainingOptions
{
    /// <summary>Optimizer steps; each takes <see cref="GradientAccumulationSteps"/> batches.</summary>
    public int Steps { get; init; } = 16;
    public int BatchSize { get; init; } = 1;
    public int GradientAccumulationSteps { get; init; } = 1;
    public double LearningRate { get; init; } = 5e-4;
    public LearningRateDecay Schedule { get; init; } = LearningRateDecay.Constant;
    public int WarmupSteps { get; init; }
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Clip the gradients' global L2 norm to this (kohya --max_grad_norm 1.0); 0 disables clipping.</summary>
    public double MaxGradNorm { get; init; }

    public int Rank { get; init; } = 8;

    /// <summary>LoRA alpha; the branch is scaled by α/r. Null means α = r.</summary>
    public double? Alpha { get; init; }

    public LoraTargets Targets { get; init; } = LoraTargets.Attention;
    public LossFunction LossFunction { get; init; } = LossFunction.Mse;
    public LossWeighting LossWeighting { get; init; } = LossWeighting.Uniform;
    public ulong Seed { get; init; }

    /// <summary>Write a resumable checkpoint every this many optimizer steps (0: never).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// Recompute each UNet block's activations in the backward pass instead of keeping them (less memory, about one
    /// more forward of time). The numbers are identical either way, so it is not part of <see cref="Fingerprint"/>:
    /// a run may resume with it switched.
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>
    /// <see cref="MixedPrecision.Bf16"/>: the UNet's forward runs under bf16 autocast (matmuls and convolutions in bf16,
    /// float32 weights, float32 LoRA master weights and optimizer state); the loss is computed in float32.
    /// </summary>
    public MixedPrecision MixedPrecision { get; init; } = MixedPrecision.No;

    /// <summary>
    /// Also train LoRA on the text encoder's attention and MLP linears (kohya's lora_te_ modules; same rank and
    /// alpha); the text embeddings are then computed every step from the samples' tokens instead of cached.
    /// </summary>
    public bool TrainTextEncoder { get; init; }

    /// <summary>The text encoder LoRA's learning rate (kohya --text_encoder_lr), following the same schedule; null: <see cref="LearningRate"/>.</summary>
    public double? TextEncoderLearningRate { get; init; }

    /// <summary>
    /// The text encoder layer whose (final-layer-normed) output is the context while it trains: −1 the last, −2 the
    /// penultimate (CLIPSetLastLayer's value, so training sees what the workflow's conditioning saw).
    /// </summary>
    public int TextEncoderLayer { get; init; } = -1;

    public double EffectiveAlpha => Alpha ?? Rank;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(GradientAccumulationSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Rank, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate);
        ArgumentOutOfRangeException.ThrowIfNegative(WarmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxGradNorm);
        ArgumentOutOfRangeException.ThrowIfNegative(CheckpointEvery);
        if (TextEncoderLearningRate is double te) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(te);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TextEncoderLayer, -1);
    }

    /// <summary>A stable text of every option (record printing is culture-invariant for these types).</summary>
    public string Fingerprint() => FormattableString.Invariant(
        $"{Steps}|{BatchSize}|{GradientAccumulationSteps}|{LearningRate:R}|{Schedule}|{WarmupSteps}|{WeightDecay:R}|{Beta1:R}|{Beta2:R}|{Epsilon:R}|{MaxGradNorm:R}|{Rank}|{EffectiveAlpha:R}|{Targets}|{LossFunction}|{LossWeighting}|{Seed}")
        + (MixedPrecision == MixedPrecision.No ? "" : $"|{MixedPrecision}")
        + (TrainTextEncoder ? FormattableString.Invariant($"|te:{TextEncoderLearningRate ?? LearningRate:R}") : "")
        + (TrainTextEncoder && TextEncoderLayer != -1 ? FormattableString.Invariant($"|te-layer:{TextEncoderLayer}") : "");
}

/// <summary>The precision of the training forward pass (accelerate's --mixed_precision).</summary>
public enum MixedPrecision
{
    /// <summary>Everything in the model's weight dtype.</summary>
    No,

    /// <summary>bf16 autocast over float32 weights.</summary>
    Bf16,
}
