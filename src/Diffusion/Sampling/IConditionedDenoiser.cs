using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// What the network side implements for the guiders: x̂₀ for each conditioning at once, ideally as one batched
/// network call (ComfyUI calc_cond_batch). The conditioning type is the network side's own.
/// </summary>
/// <typeparam name="TCond">A conditioning (prompt embeddings, pooled output, areas, ControlNets, …).</typeparam>
public interface IConditionedDenoiser<in TCond>
{
    /// <summary>
    /// Returns one x̂₀ per conditioning, in order, each shaped like <paramref name="x"/> and owned by the caller's
    /// current dispose scope.
    /// </summary>
    /// <param name="x">The noisy latent [B, C, H, W] in k-diffusion scaling (x = x₀ + σ·ε; not yet multiplied by
    /// c_in — use <see cref="ModelSamplingExtensions.ApplyModel"/> to go to and from the network).</param>
    /// <param name="sigma">σ per batch element, [B], x's dtype and device.</param>
    /// <param name="conditionings">One or more conditionings (positive first, then negative for CFG).</param>
    Tensor[] Denoise(Tensor x, Tensor sigma, IReadOnlyList<TCond> conditionings);
}

/// <summary>
/// Turns a conditioned model into the sampler's <see cref="Denoiser"/> (ComfyUI's GUIDER: CFGGuider, BasicGuider).
/// </summary>
public interface IGuider
{
    /// <summary>The guided x̂₀ for x at σ, owned by the caller's current dispose scope.</summary>
    Tensor Predict(Tensor x, double sigma);
}
