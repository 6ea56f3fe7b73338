using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Training;

/// <summary>The criterion between prediction and target (ComfyUI TrainLoraNode's loss_function).</summary>
public enum LossFunction
{
    Mse,
    L1,

    /// <summary>Huber with δ = 1 (torch.nn.HuberLoss).</summary>
    Huber,

    /// <summary>Smooth L1 with β = 1 (torch.nn.SmoothL1Loss; equal to Huber at δ = β = 1).</summary>
    SmoothL1,
}

/// <summary>What the criterion compares.</summary>
public enum LossWeighting
{
    /// <summary>
    /// kohya sd-scripts: the network output against its target (ε, or v for v-prediction) — every timestep weighs the same.
    /// </summary>
    Uniform,

    /// <summary>
    /// ComfyUI TrainLoraNode: the denoised x̂₀ against x₀. For ε-models x̂₀ − x₀ = σ_t(ε − ε̂), a σ²-weighted ε-loss that
    /// puts most of the weight on the noisiest timesteps; for v-models x̂₀ − x₀ = −√(1−ᾱ_t)(v̂ − v).
    /// </summary>
    DenoisedX0,
}

/// <summary>
/// One noised training batch and the diffusion loss on the network's prediction (kohya train_network.py,
/// ComfyUI nodes_train.py): timesteps uniform over the schedule, x_t = √ᾱ·x₀ + √(1−ᾱ)·ε, target ε or
/// v = √ᾱ·ε − √(1−ᾱ)·x₀.
/// </summary>
public sealed class DiffusionLoss(DiffusionNoiseSchedule schedule, PredictionType prediction, LossFunction function = LossFunction.Mse,
    LossWeighting weighting = LossWeighting.Uniform)
{
    public DiffusionNoiseSchedule Schedule { get; } = schedule;
    public PredictionType Prediction { get; } = prediction;
    public LossFunction Function { get; } = function;
    public LossWeighting Weighting { get; } = weighting;

    /// <summary>The network input x_t for clean latents x₀ [B, …], noise ε and integer timesteps (one per row).</summary>
    public Tensor Noised(Tensor x0, Tensor noise, IReadOnlyList<int> timesteps)
    {
        using var scope = Torch.NewScope();
        Tensor a = Schedule.SqrtAlphaCumprod(timesteps, x0.Dim), b = Schedule.SqrtOneMinusAlphaCumprod(timesteps, x0.Dim);
        return (a.To(x0.Device) * x0 + b.To(x0.Device) * noise).MoveToOuterScope();
    }

    /// <summary>What the network should predict: ε, or v for v-prediction.</summary>
    public Tensor Target(Tensor x0, Tensor noise, IReadOnlyList<int> timesteps)
    {
        if (Prediction == PredictionType.Epsilon) return noise.Alias();
        using var scope = Torch.NewScope();
        Tensor a = Schedule.SqrtAlphaCumprod(timesteps, x0.Dim), b = Schedule.SqrtOneMinusAlphaCumprod(timesteps, x0.Dim);
        return (a.To(x0.Device) * noise - b.To(x0.Device) * x0).MoveToOuterScope();
    }

    /// <summary>The scalar loss (mean over every element) of a prediction for that batch.</summary>
    public Tensor Loss(Tensor prediction, Tensor target, IReadOnlyList<int> timesteps)
    {
        using var scope = Torch.NewScope();
        Tensor p = prediction.To(DType.Float32), t = target.To(DType.Float32);
        if (Weighting == LossWeighting.DenoisedX0)
        {
            Tensor w = DiffusionNoiseSchedule.Column(timesteps, X0Factor, p.Dim).To(p.Device);
            p = p * w;
            t = t * w;
        }
        return Criterion(p, t, Function).MoveToOuterScope();
    }

    /// <summary>mean(criterion(input − target)).</summary>
    public static Tensor Criterion(Tensor input, Tensor target, LossFunction function)
    {
        using var scope = Torch.NewScope();
        Tensor d = input - target;
        Tensor e = function switch
        {
            LossFunction.Mse => d.Square(),
            LossFunction.L1 => d.Abs(),
            // δ = β = 1: 0.5·d² where |d| < 1, else |d| − 0.5.
            LossFunction.Huber or LossFunction.SmoothL1 => d.Abs().Lt(1.0).Where(d.Square() * 0.5, d.Abs() - 0.5),
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, null),
        };
        return e.Mean().MoveToOuterScope();
    }

    // |x̂₀ − x₀| per unit of prediction error.
    private double X0Factor(int t) => Prediction == PredictionType.Epsilon
        ? Schedule.Sigma(t)
        : Math.Sqrt(1 - Schedule.AlphaCumprod(t));
}
