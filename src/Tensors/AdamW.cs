using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter, decoupled weight decay), matching torch.optim.AdamW without amsgrad.
/// Owns its moment buffers; parameters stay owned by the caller.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly Tensor[] _params;
    private readonly Tensor[] _expAvg;
    private readonly Tensor[] _expAvgSq;

    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2)
    {
        _params = parameters.ToArray();
        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _expAvg = _params.Select(p => Torch.ZerosLike(p).DetachFromScope()).ToArray();
        _expAvgSq = _params.Select(p => Torch.ZerosLike(p).DetachFromScope()).ToArray();
    }

    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    /// <summary>Steps taken so far (bias correction uses it).</summary>
    public long StepCount { get; private set; }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        var p = Handles(_params, out var release1);
        var m = Handles(_expAvg, out var release2);
        var v = Handles(_expAvgSq, out var release3);
        try
        {
            NativeStatus.Check(NativeMethods.cg_optim_adamw_step(p, m, v, p.Length, StepCount, LearningRate, Beta1, Beta2, Eps, WeightDecay));
        }
        finally
        {
            release1();
            release2();
            release3();
        }
    }

    /// <summary>First moments (torch's exp_avg), one per parameter in order; for saving the optimizer state.</summary>
    public IReadOnlyList<Tensor> ExpAvg => _expAvg;

    /// <summary>Second moments (torch's exp_avg_sq), one per parameter in order.</summary>
    public IReadOnlyList<Tensor> ExpAvgSq => _expAvgSq;

    /// <summary>
    /// Restores a saved state (torch's optimizer.load_state_dict): the step count and both moments, copied into this
    /// optimizer's buffers, so the next <see cref="Step"/> continues exactly where the saved run stopped.
    /// </summary>
    public void LoadState(long stepCount, IReadOnlyList<Tensor> expAvg, IReadOnlyList<Tensor> expAvgSq)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        if (expAvg.Count != _params.Length || expAvgSq.Count != _params.Length)
            throw new ArgumentException($"the saved state has {expAvg.Count}/{expAvgSq.Count} moments for {_params.Length} parameters");
        using (Autograd.NoGrad())
            for (int i = 0; i < _params.Length; i++)
            {
                _expAvg[i].Copy_(expAvg[i]);
                _expAvgSq[i].Copy_(expAvgSq[i]);
            }
        StepCount = stepCount;
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (Tensor p in _params) p.ZeroGrad();
    }

    public void Dispose()
    {
        foreach (Tensor t in _expAvg) t.Dispose();
        foreach (Tensor t in _expAvgSq) t.Dispose();
    }

    private static nint[] Handles(Tensor[] tensors, out Action release)
    {
        var handles = new nint[tensors.Length];
        var added = new bool[tensors.Length];
        for (int i = 0; i < tensors.Length; i++)
        {
            tensors[i].DangerousAddRef(ref added[i]);
            handles[i] = tensors[i].DangerousGetHandle();
        }
        release = () =>
        {
            for (int i = 0; i < tensors.Length; i++)
                if (added[i]) tensors[i].DangerousRelease();
        };
        return handles;
    }
}
