namespace CharacterGen.Diffusion.Training;

/// <summary>
/// One optimizer step's report. <see cref="Loss"/> is the step's mean loss over its batches;
/// <see cref="Epoch"/> counts from 1; <see cref="SmoothedLoss"/> is an exponential moving average (factor 0.9, bias-corrected, like tqdm's postfix).
/// </summary>
public sealed record TrainingProgress(int Step, int TotalSteps, int Epoch, double Loss, double SmoothedLoss, double LearningRate,
    double ImagesPerSecond, TimeSpan Eta)
{
    /// <summary>The fields as a flat dictionary, for progress events ("step", "total_steps", "epoch", "loss", …).</summary>
    public IReadOnlyDictionary<string, object?> ToFields() => new Dictionary<string, object?>
    {
        ["step"] = Step,
        ["total_steps"] = TotalSteps,
        ["epoch"] = Epoch,
        ["loss"] = Loss,
        ["smoothed_loss"] = SmoothedLoss,
        ["learning_rate"] = LearningRate,
        ["images_per_second"] = ImagesPerSecond,
        ["eta_seconds"] = Math.Round(Eta.TotalSeconds, 1),
    };
}
