using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// Noise for the SDE samplers from one Brownian path W over σ: <c>Sample(σ, σ') = (W(σ') − W(σ)) / √|σ' − σ|</c>, so
/// increments over overlapping intervals are correlated as in ComfyUI's BrownianTreeNoiseSampler (torchsde
/// BrownianTree). The path is drawn lazily: W(σ_min) = 0, W(σ_max) ~ N(0, σ_max − σ_min), and every new time point
/// from the Brownian bridge between its known neighbours, with a CPU generator seeded with seed + 1.
/// Statistically equivalent to the Brownian tree and deterministic per seed and query order, but not bit-identical
/// to torchsde. Queries are expected to move down in σ (as all samplers do): points above the latest query are
/// forgotten, keeping memory to a few latents.
/// </summary>
public sealed class BrownianNoiseSampler : INoiseSampler
{
    private readonly SortedList<double, Tensor> _path = new();
    private readonly Generator _generator;
    private readonly long[] _shape;
    private readonly DType _dtype;
    private readonly DType _outputDType;
    private readonly Device _device;

    public BrownianNoiseSampler(Tensor like, double sigmaMin, double sigmaMax, ulong seed)
    {
        if (!double.IsFinite(sigmaMin) || !double.IsFinite(sigmaMax) || sigmaMin > sigmaMax)
            throw new ArgumentException($"needs finite σ_min ≤ σ_max, got {sigmaMin} and {sigmaMax}");
        _generator = new Generator(unchecked(seed + 1));
        _shape = like.Shape;
        _dtype = like.DType == DType.Float64 ? DType.Float64 : DType.Float32;
        _outputDType = like.DType;
        _device = like.Device;
        _path.Add(sigmaMin, Torch.Zeros(_shape, _dtype).DetachFromScope());
        if (sigmaMax > sigmaMin) _path.Add(sigmaMax, Draw(Math.Sqrt(sigmaMax - sigmaMin)).DetachFromScope());
    }

    /// <summary>Time points currently held (for tests).</summary>
    internal int HeldPoints => _path.Count;

    public Tensor Sample(double sigma, double sigmaNext)
    {
        if (sigma == sigmaNext) throw new ArgumentException("the interval is empty");
        Tensor w0 = At(sigma), w1 = At(sigmaNext);
        Forget(Math.Max(sigma, sigmaNext));
        using var scope = Torch.NewScope();
        Tensor n = (w1 - w0) / Math.Sqrt(Math.Abs(sigmaNext - sigma));
        return n.To(_device, _outputDType).MoveToOuterScope();
    }

    public void Dispose()
    {
        foreach (Tensor t in _path.Values) t.Dispose();
        _path.Clear();
        _generator.Dispose();
    }

    // W(t): a held point, an extension past either end (independent increment), or a bridge sample.
    private Tensor At(double t)
    {
        if (_path.TryGetValue(t, out Tensor? held)) return held;
        IList<double> times = _path.Keys;
        int upper = LowerBound(times, t);
        Tensor w;
        using (var scope = Torch.NewScope())
        {
            if (upper == times.Count)
            {
                w = _path.Values[^1].Add(Draw(1), Math.Sqrt(t - times[^1]));
            }
            else if (upper == 0)
            {
                w = _path.Values[0].Add(Draw(1), Math.Sqrt(times[0] - t));
            }
            else
            {
                // Brownian bridge: W(t) | W(a), W(b) ~ N(W(a) + (t−a)/(b−a)·(W(b)−W(a)), (t−a)(b−t)/(b−a))
                double a = times[upper - 1], b = times[upper];
                Tensor wa = _path.Values[upper - 1], wb = _path.Values[upper];
                double frac = (t - a) / (b - a);
                w = wa.Lerp(wb, frac).Add(Draw(1), Math.Sqrt((t - a) * (b - t) / (b - a)));
            }
            w.DetachFromScope();
        }
        _path.Add(t, w);
        return w;
    }

    // Drops points above the smallest one at or above `ceiling`: later queries below the ceiling only need it.
    private void Forget(double ceiling)
    {
        int keep = LowerBound(_path.Keys, ceiling);
        while (_path.Count > keep + 1)
        {
            _path.Values[^1].Dispose();
            _path.RemoveAt(_path.Count - 1);
        }
    }

    private Tensor Draw(double scale)
    {
        using var scope = Torch.NewScope();
        Tensor n = Torch.Randn(_shape, _generator, _dtype);
        return (scale == 1 ? n : n * scale).MoveToOuterScope();
    }

    private static int LowerBound(IList<double> sorted, double value)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (sorted[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
