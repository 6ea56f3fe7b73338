using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// Classifier-free guidance (Ho &amp; Salimans 2022; ComfyUI CFGGuider / cfg_function):
/// x̂₀ = uncond + (cond − uncond)·cfg, with cond and uncond from one batched call. When cfg is 1 (math.isclose) the
/// negative pass is skipped and x̂₀ = cond.
/// </summary>
public sealed class CfgGuider<TCond>(IConditionedDenoiser<TCond> model, TCond positive, TCond negative, double cfg) : IGuider
{
    public double Cfg { get; } = cfg;

    /// <summary>True when the negative conditioning is not evaluated (cfg ≈ 1).</summary>
    public bool SkipsUncond => IsClose(Cfg, 1.0);

    public Tensor Predict(Tensor x, double sigma)
    {
        using var scope = Torch.NewScope();
        Tensor sigmaBatch = Torch.Full([x.Size(0)], sigma, x.DType, x.Device);
        if (SkipsUncond)
            return model.Denoise(x, sigmaBatch, [positive])[0].MoveToOuterScope();
        Tensor[] outputs = model.Denoise(x, sigmaBatch, [positive, negative]);
        Tensor cond = outputs[0], uncond = outputs[1];
        return uncond.Add(cond - uncond, Cfg).MoveToOuterScope();
    }

    // Python math.isclose defaults: rel_tol 1e-9, abs_tol 0
    private static bool IsClose(double a, double b) => a == b || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
}

/// <summary>One conditioning, no guidance (ComfyUI BasicGuider; e.g. Flux with its guidance embedding).</summary>
public sealed class BasicGuider<TCond>(IConditionedDenoiser<TCond> model, TCond conditioning) : IGuider
{
    public Tensor Predict(Tensor x, double sigma)
    {
        using var scope = Torch.NewScope();
        Tensor sigmaBatch = Torch.Full([x.Size(0)], sigma, x.DType, x.Device);
        return model.Denoise(x, sigmaBatch, [conditioning])[0].MoveToOuterScope();
    }
}
