using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>Pieces every training loop here shares: trainable parameters, the learning-rate schedule, gradient clipping.</summary>
public static class TrainingSteps
{
    /// <summary>Every parameter tensor of the module, marked to record gradients.</summary>
    public static Tensor[] Trainable(Module module)
    {
        var tensors = module.NamedParameters().Select(p => p.Value.Value).ToArray();
        foreach (Tensor t in tensors) t.RequiresGrad = true;
        return tensors;
    }

    /// <summary>Stops recording gradients for every parameter (after training, before the weights are used or saved).</summary>
    public static void Freeze(Module module)
    {
        foreach (var (_, p) in module.NamedParameters()) p.Value.RequiresGrad = false;
    }

    /// <summary>Linear warm-up over the first <paramref name="warmup"/> steps, then a cosine decay to <paramref name="floor"/>·peak.</summary>
    public static double WarmupCosine(int step, int steps, double peak, int warmup, double floor = 0.1)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        double progress = (step - warmup) / (double)Math.Max(1, steps - warmup);
        return peak * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/> (torch clip_grad_norm_); returns the norm before.</summary>
    public static double ClipGradNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        double total = Math.Sqrt(grads.Sum(g => g.Square().Sum().Item()));
        if (total > maxNorm)
            foreach (Tensor g in grads) g.Mul_(maxNorm / (total + 1e-6));
        return total;
    }
}

/// <summary>
/// An exponential moving average of a module's weights (Polyak averaging, as diffusion training keeps), held in a
/// second module of the same shape whose weights are the ones saved.
/// </summary>
public sealed class WeightAverage
{
    private readonly Tensor[] _source;
    private readonly Tensor[] _average;

    public WeightAverage(Module source, Module average)
    {
        _source = source.NamedParameters().Select(p => p.Value.Value).ToArray();
        var slots = average.NamedParameters().Select(p => p.Value).ToArray();
        using (Autograd.NoGrad())
            for (int i = 0; i < slots.Length; i++) slots[i].Set(_source[i].Detach().Clone());
        _average = slots.Select(s => s.Value).ToArray();
    }

    /// <summary>average ← decay·average + (1 − decay)·weights.</summary>
    public void Update(double decay)
    {
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        for (int i = 0; i < _source.Length; i++) _average[i].Copy_(_average[i].Lerp(_source[i], 1 - decay));
    }
}
