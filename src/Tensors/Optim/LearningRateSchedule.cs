namespace CharacterGen.Tensors.Optim;

/// <summary>The shape of the learning rate over a run, after an optional linear warm-up.</summary>
public enum LearningRateDecay
{
    /// <summary>The base rate throughout (kohya's and ComfyUI's default).</summary>
    Constant,

    /// <summary>Half a cosine from the base rate down to zero at the last step (transformers' get_cosine_schedule_with_warmup).</summary>
    Cosine,

    /// <summary>A straight line from the base rate down to zero at the last step (get_linear_schedule_with_warmup).</summary>
    Linear,
}

/// <summary>
/// Learning rate per optimizer step, as diffusers/transformers schedules compute it: during the first
/// <see cref="WarmupSteps"/> steps the rate rises linearly (step/warmup), then follows <see cref="Decay"/> over the
/// remaining steps. Steps count from 0 (the rate used by the first update).
/// </summary>
public sealed record LearningRateSchedule(double BaseRate, long TotalSteps, LearningRateDecay Decay = LearningRateDecay.Constant, long WarmupSteps = 0)
{
    public double RateAt(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return BaseRate * step / WarmupSteps;
        if (Decay == LearningRateDecay.Constant) return BaseRate;
        long decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Decay switch
        {
            LearningRateDecay.Cosine => BaseRate * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            LearningRateDecay.Linear => BaseRate * (1 - progress),
            _ => throw new ArgumentOutOfRangeException(nameof(Decay), Decay, null),
        };
    }
}
