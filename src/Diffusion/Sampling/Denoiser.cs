using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// x̂₀ = D(x, σ): the (guided) model's estimate of the clean latent from the noisy x at noise level σ, in k-diffusion
/// scaling (x = x₀ + σ·ε). Samplers are pure functions over this. The result belongs to the caller's current
/// <see cref="DisposeScope"/>.
/// </summary>
public delegate Tensor Denoiser(Tensor x, double sigma);

/// <summary>
/// Called once per sampler step, after the step's first model call and before x is updated (k-diffusion's callback):
/// <paramref name="step"/> counts from 0 to <paramref name="total"/> − 1. The tensors are only valid during the call.
/// Throw (e.g. <see cref="OperationCanceledException"/>) to stop sampling; samplers never swallow it.
/// </summary>
public delegate void SamplerCallback(int step, int total, Tensor x, Tensor denoised);

/// <summary>
/// A sampler: integrates from x at σ₀ down the schedule and returns the final x (owned by the caller; the input x is
/// left alone).
/// </summary>
public delegate Tensor SamplerFunction(Denoiser model, Tensor x, Sigmas sigmas, SamplerContext context);
